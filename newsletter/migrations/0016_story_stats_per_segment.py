"""Issue 22, numbers editors can trust: an edition's segments as they were sent (EditionSegment:
language, topics, stories in the email's order), the segment of each delivery and click, story
rows per segment, and when the growth roll-up last counted a day.

Delivery.segment is a nullable column without default, key or index: adding it is a catalogue
change on PostgreSQL (no table rewrite), and the claimed -> sending UPDATE that writes it stays
HOT. Rows sent before this migration keep NULL and the report shows those editions as before."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0015_edition_number"),
    ]

    operations = [
        migrations.CreateModel(
            name="EditionSegment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("language", models.CharField(max_length=2)),
                ("sections", models.CharField(blank=True, max_length=500)),
                ("stories", models.JSONField(default=list)),
                ("own_stories", models.PositiveSmallIntegerField(default=0)),
                ("sent", models.PositiveIntegerField(default=0)),
                ("delivered", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="storyclickstats",
            name="storyclickstats_once",
        ),
        migrations.AddField(
            model_name="dailygrowth",
            name="updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="segment",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="الشريحة"),
        ),
        migrations.AddField(
            model_name="storyclick",
            name="segment",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="editionsegment",
            name="digest",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="newsletter.digest"
            ),
        ),
        migrations.AddField(
            model_name="storyclickstats",
            name="segment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="newsletter.editionsegment",
            ),
        ),
        migrations.AddConstraint(
            model_name="storyclickstats",
            constraint=models.UniqueConstraint(
                condition=models.Q(("segment__isnull", True)),
                fields=("digest", "position"),
                name="storyclickstats_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="storyclickstats",
            constraint=models.UniqueConstraint(
                condition=models.Q(("segment__isnull", False)),
                fields=("digest", "segment", "position"),
                name="storyclickstats_once_per_segment",
            ),
        ),
        migrations.AddConstraint(
            model_name="editionsegment",
            constraint=models.UniqueConstraint(fields=("digest", "language", "sections"), name="editionsegment_once"),
        ),
    ]
