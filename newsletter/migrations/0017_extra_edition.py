"""An edition an editor sent before its run is `extra`; the day's scheduled edition is the one that
is not (issue 22: sent now between midnight and the 07:00 run, it had taken the run's place).
Editions numbered above 1 were all sent early by an editor."""

from django.db import migrations, models


def mark_early_sends(apps, schema_editor):
    Digest = apps.get_model("newsletter", "Digest")
    Digest.objects.filter(utc_offset__isnull=True, number__gt=1).update(extra=True)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0016_story_stats_per_segment"),
    ]

    operations = [
        migrations.AddField(
            model_name="digest",
            name="extra",
            field=models.BooleanField(default=False, verbose_name="عدد إضافي"),
        ),
        migrations.RunPython(mark_early_sends, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="digest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("extra", False), ("utc_offset__isnull", True)),
                fields=("frequency", "edition_date"),
                name="digest_one_scheduled_per_day",
            ),
        ),
    ]
