"""The "Editors" group with exactly what editors need: articles, sections and tags (all),
read statistics (view), digests (add/change/view) and digest items (add/change/delete/view).
Nothing on users, groups, subscribers, suppressions or deliveries (personal data)."""

from django.db import migrations

EDITOR_PERMISSIONS = {
    "articles": {
        "article": ["add", "change", "delete", "view"],
        "section": ["add", "change", "delete", "view"],
        "tag": ["add", "change", "delete", "view"],
        "articledailystats": ["view"],
    },
    "newsletter": {
        "digest": ["add", "change", "view"],
        "digestitem": ["add", "change", "delete", "view"],
    },
}


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database permissions are created by post_migrate, after all migrations:
    # create them now so the group can hold them.
    for label in ("articles", "newsletter"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    wanted = []
    for app_label, models in EDITOR_PERMISSIONS.items():
        for model, actions in models.items():
            for action in actions:
                wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}"))
    group.permissions.set(wanted)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("newsletter", "0002_periodic_tasks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_group, remove_group)]
