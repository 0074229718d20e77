"""The edition's English intro, for the English segment (issue 22)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0012_snapshot_without_subscriber_fk_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="digest",
            name="intro_en",
            field=models.TextField(blank=True, verbose_name="مقدمة المحرر بالإنجليزية"),
        ),
    ]
