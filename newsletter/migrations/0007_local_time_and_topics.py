"""Issue 12: subscribers' time zones, edition waves per UTC offset (Digest.wave_of/utc_offset,
one edition per offset and date), one edition per subscriber and period across waves (Receipt),
pins for every segment (DigestItem.for_everyone), and the hourly beat row that sends the waves."""

import json

import django.db.models.deletion
from django.db import migrations, models


WAVES_TASK = ("Digest waves (local edition hour)", "newsletter.tasks.run_digest_waves")


def add_waves_row(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # Every hour on the hour (UTC): each run sends the waves whose local edition hour has come.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    name, task = WAVES_TASK
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab, "kwargs": json.dumps({})})


def remove_waves_row(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=WAVES_TASK[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_stats_covering_index"),
        ("newsletter", "0006_digest_skipped_count"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="Receipt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("frequency", models.CharField(choices=[("daily", "يومية"), ("weekly", "أسبوعية")], max_length=6)),
                ("edition_date", models.DateField()),
            ],
            options={
                "verbose_name": "إيصال عدد",
                "verbose_name_plural": "إيصالات الأعداد",
            },
        ),
        migrations.RemoveConstraint(
            model_name="digest",
            name="digest_one_per_period",
        ),
        migrations.AddField(
            model_name="digest",
            name="utc_offset",
            field=models.SmallIntegerField(blank=True, null=True, verbose_name="فرق التوقيت (دقائق)"),
        ),
        migrations.AddField(
            model_name="digest",
            name="wave_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="waves",
                to="newsletter.digest",
                verbose_name="موجة من",
            ),
        ),
        migrations.AddField(
            model_name="digestitem",
            name="for_everyone",
            field=models.BooleanField(default=False, verbose_name="للجميع"),
        ),
        migrations.AddField(
            model_name="subscriber",
            name="time_zone",
            field=models.CharField(blank=True, max_length=64, verbose_name="المنطقة الزمنية"),
        ),
        migrations.AddIndex(
            model_name="subscriber",
            index=models.Index(fields=["status", "frequency", "time_zone"], name="subscriber_wave_zones"),
        ),
        migrations.AddConstraint(
            model_name="digest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("utc_offset__isnull", True)),
                fields=("frequency", "edition_date"),
                name="digest_one_per_period",
            ),
        ),
        migrations.AddConstraint(
            model_name="digest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("utc_offset__isnull", False)),
                fields=("frequency", "edition_date", "utc_offset"),
                name="digest_one_wave_per_offset",
            ),
        ),
        migrations.AddField(
            model_name="receipt",
            name="digest",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="newsletter.digest"
            ),
        ),
        migrations.AddField(
            model_name="receipt",
            name="subscriber",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="newsletter.subscriber"
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(fields=["digest"], name="receipt_digest"),
        ),
        migrations.AddConstraint(
            model_name="receipt",
            constraint=models.UniqueConstraint(
                fields=("subscriber", "frequency", "edition_date"), name="receipt_once_per_period"
            ),
        ),
        migrations.RunPython(add_waves_row, remove_waves_row),
    ]
