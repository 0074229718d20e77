"""The record of each feed's last import (FeedImport, issue 23), which the Editors group may view:
the periodic FEED_URLS import has no other screen."""

from django.db import migrations, models


def let_editors_view(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database permissions are created by post_migrate, after all migrations.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="articles", codename="view_feedimport")
    for group in Group.objects.filter(name="Editors"):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0005_section_english_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=1000, unique=True, verbose_name="الخلاصة")),
                ("imported_at", models.DateTimeField(verbose_name="آخر استيراد")),
                ("refusal", models.CharField(blank=True, max_length=20, verbose_name="سبب الرفض")),
                ("error", models.TextField(blank=True, verbose_name="التفاصيل التقنية")),
                ("created", models.PositiveIntegerField(default=0, verbose_name="جديدة")),
                ("updated", models.PositiveIntegerField(default=0, verbose_name="محدّثة")),
                ("unchanged", models.PositiveIntegerField(default=0, verbose_name="بلا تغيير")),
                ("skipped", models.PositiveIntegerField(default=0, verbose_name="متروكة")),
                ("skipped_entries", models.JSONField(blank=True, default=list, verbose_name="المدخلات المتروكة")),
            ],
            options={
                "verbose_name": "استيراد خلاصة",
                "verbose_name_plural": "استيراد الخلاصات",
                "ordering": ["source"],
            },
        ),
        migrations.RunPython(let_editors_view, migrations.RunPython.noop),
    ]
