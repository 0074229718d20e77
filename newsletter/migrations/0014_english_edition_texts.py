"""The edition's English intro, for the English segment (issue 22)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0013_consent_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="digest",
            name="intro_en",
            field=models.TextField(blank=True, verbose_name="مقدمة المحرر بالإنجليزية"),
        ),
    ]
