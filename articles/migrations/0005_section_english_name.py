"""A section's English name, for the English email and the English site (issue 22)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_article_image_checked_email_copy"),
    ]

    operations = [
        migrations.AddField(
            model_name="section",
            name="name_en",
            field=models.CharField(
                blank=True,
                help_text="يظهر في النشرة الإنجليزية وفي الموقع بالإنجليزية؛ إن تُرك فارغًا ظهر الاسم العربي.",
                max_length=100,
                verbose_name="الاسم بالإنجليزية",
            ),
        ),
    ]
