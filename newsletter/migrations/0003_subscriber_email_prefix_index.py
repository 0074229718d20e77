"""Index for the subscriber admin's prefix search on PostgreSQL: LOWER(email) with
text_pattern_ops serves `LOWER(email) LIKE 'abc%'` in any database collation (the unique
LOWER(email) index already serves exact matches). Other databases need nothing."""

from django.db import migrations


def create_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS subscriber_email_prefix "
            "ON newsletter_subscriber (LOWER(email) text_pattern_ops)"
        )


def drop_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS subscriber_email_prefix")


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0002_periodic_tasks")]

    operations = [migrations.RunPython(create_index, drop_index)]
