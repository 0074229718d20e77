"""Issue 15, retention: the send report frozen on EditionStats when an edition's Delivery rows
are pruned, and the daily beat row that prunes them (03:30, TIME_ZONE; editable in the admin)."""

from django.conf import settings
from django.db import migrations, models

BEAT_NAME = "Prune old deliveries"
BEAT_TASK = "newsletter.tasks.prune_deliveries"


def create_beat_row(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.get_or_create(name=BEAT_NAME, defaults={"task": BEAT_TASK, "crontab": crontab})


def remove_beat_row(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=BEAT_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0009_editor_schedule_at_and_names"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="editionstats",
            name="clicked",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="failed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="opened",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="pending",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="pruned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="rejected",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="skipped",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="unknown",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="editionstats",
            name="unsubscribed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(create_beat_row, remove_beat_row),
    ]
