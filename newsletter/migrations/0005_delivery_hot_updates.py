"""HOT status updates for newsletter_delivery (bench/README.md, "HOT status updates").

The claim -> sending -> sent UPDATEs write status, claimed_at, attempts, sending_at, sent_at and
esp_message_id; an index on any of them (key or partial predicate) makes PostgreSQL write a new
entry in every index for every updated row. Only indexes on columns those updates never write
remain: (digest, subscriber) unique, (digest, batch), subscriber_id, the primary key. The table
gets fillfactor 75 on PostgreSQL so the new row version usually fits on the same page.
SQLite has no fillfactor: the RunPython does nothing there."""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = 75


def set_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Free room on each page so an updated row version fits beside the old one (HOT).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE newsletter_delivery SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE newsletter_delivery RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0004_delivery_queued_at"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_batch",
        ),
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_stuck",
        ),
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_message_id",
        ),
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_queued",
        ),
        migrations.AlterField(
            model_name="delivery",
            name="digest",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="newsletter.digest",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["digest", "batch"], name="delivery_digest_batch"),
        ),
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
