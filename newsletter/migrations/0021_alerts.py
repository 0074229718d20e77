"""Breaking-news alerts (issue 27): the readers' opt-in (Subscriber.alerts, with the partial index
the alert snapshot reads), the Alert table, "alert" as a kind of edition row, and the Editors
group's right to send alerts (add/view alert: the article page's button checks it)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def let_editors_send_alerts(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database permissions are created by post_migrate, after all migrations.
    app_config = apps.get_app_config("newsletter")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Permission.objects.filter(content_type__app_label="newsletter", codename__in=["add_alert", "view_alert"])
    for group in Group.objects.filter(name="Editors"):
        group.permissions.add(*wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0006_feed_import_report"),
        ("newsletter", "0020_story_feedback"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="Alert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("headline", models.CharField(max_length=300, verbose_name="العنوان")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="وقت الطلب"),
                ),
                ("cancelled_at", models.DateTimeField(blank=True, null=True, verbose_name="وقت الإلغاء")),
            ],
            options={
                "verbose_name": "تنبيه عاجل",
                "verbose_name_plural": "التنبيهات العاجلة",
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="subscriber",
            name="alerts",
            field=models.BooleanField(db_default=False, default=False, verbose_name="تنبيهات الأخبار العاجلة"),
        ),
        migrations.AlterField(
            model_name="digest",
            name="frequency",
            field=models.CharField(
                choices=[("daily", "يومية"), ("weekly", "أسبوعية"), ("alert", "تنبيه عاجل")],
                max_length=6,
                verbose_name="الدورية",
            ),
        ),
        migrations.AddIndex(
            model_name="subscriber",
            index=models.Index(
                condition=models.Q(("alerts", True), ("status", "active")),
                fields=["id"],
                name="subscriber_alerts_audience",
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="article",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="articles.article",
                verbose_name="المقال",
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="أرسله",
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="digest",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="alert",
                to="newsletter.digest",
                verbose_name="الإرسال",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cancelled_at__isnull", True)), fields=("article",), name="alert_once_per_article"
            ),
        ),
        migrations.RunPython(let_editors_send_alerts, migrations.RunPython.noop),
    ]
