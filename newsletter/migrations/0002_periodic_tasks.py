"""Periodic tasks in django-celery-beat's tables (editable in the admin afterwards):
daily digest 07:00, weekly digest Saturday 08:00 (TIME_ZONE), read-counter roll-up every
5 minutes, feed import every 15 minutes, delivery sweeper every minute."""

import json

from django.conf import settings
from django.db import migrations

CRONTAB_TASKS = [
    # name, task, kwargs, minute, hour, day_of_week
    ("Daily digest", "newsletter.tasks.run_scheduled_digest", {"frequency": "daily"}, "0", "7", "*"),
    ("Weekly digest", "newsletter.tasks.run_scheduled_digest", {"frequency": "weekly"}, "0", "8", "6"),
]
INTERVAL_TASKS = [
    # name, task, every (seconds)
    ("Roll up read counters", "articles.tasks.flush_reads", 300),
    ("Import configured feeds", "articles.tasks.import_configured_feeds", 900),
    ("Sweep stuck deliveries", "newsletter.tasks.sweep_deliveries", 60),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, kwargs, minute, hour, day_of_week in CRONTAB_TASKS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week=day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "kwargs": json.dumps(kwargs)}
        )
    for name, task, every in INTERVAL_TASKS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = [row[0] for row in CRONTAB_TASKS] + [row[0] for row in INTERVAL_TASKS]
    PeriodicTask.objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
