"""The signup hot path's write: a new address and its "signed up" history row in ONE statement.

`insert_unless_known` inserts the subscriber unless its address already has a row (unique
LOWER(email)) or is on the suppression list, and appends the history row for it. On PostgreSQL
both are one statement, a data-modifying CTE:

    WITH new AS (INSERT INTO subscriber ... SELECT ... WHERE NOT EXISTS (suppression hash)
                 ON CONFLICT DO NOTHING RETURNING id)
    INSERT INTO consentevent (...) SELECT new.id, ... FROM new RETURNING subscriber_id

so a signup with no topics stays one autocommitted statement (bench/README.md, "Signup
performance"): the history costs an index entry and a row, not a round trip or a transaction.
SQLite has no INSERT inside WITH: there the two INSERTs run one after the other, and the caller
holds a transaction around them (`needs_transaction`).

ON CONFLICT DO NOTHING instead of SELECT-then-INSERT-in-a-savepoint: a concurrent insert of the
same address makes this one insert nothing (PostgreSQL waits for the other transaction), never an
error, so no savepoint is needed. Values go through each field's pre_save/get_db_prep_save as in
Model.save(), which this bypasses (no model signals are connected to Subscriber or ConsentEvent).
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from .models import ConsentEvent, Subscriber, Suppression


def _connection() -> BaseDatabaseWrapper:
    return connections[router.db_for_write(Subscriber)]


def needs_transaction() -> bool:
    """True where the subscriber and its history row are two statements (not PostgreSQL)."""
    return _connection().vendor != "postgresql"


def _columns_and_values(obj: Model, connection: BaseDatabaseWrapper, *, skip: str = "") -> tuple[list[str], list[Any]]:
    fields = [field for field in obj._meta.concrete_fields if not field.primary_key and field.attname != skip]
    values = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]
    return [connection.ops.quote_name(field.column or field.attname) for field in fields], values


def insert_unless_known(subscriber: Subscriber, *, address_hash: str, signed_up: ConsentEvent) -> bool:
    """INSERT the unsaved `subscriber` and its unsaved `signed_up` row (subscriber_id filled in
    here); True (and the subscriber's pk set) if the address was new, False if nothing was written."""
    connection = _connection()

    def quote(name: str | None) -> str:
        return connection.ops.quote_name(name or "")

    columns, values = _columns_and_values(subscriber, connection)
    suppression = Suppression._meta
    insert = (
        f"INSERT INTO {quote(Subscriber._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(['%s'] * len(columns))} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(suppression.db_table)} "
        f"WHERE {quote(suppression.get_field('email_hash').column)} = %s) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(Subscriber._meta.pk.column)}"
    )
    if connection.vendor == "postgresql":
        event_columns, event_values = _columns_and_values(signed_up, connection, skip="subscriber_id")
        sql = (
            f"WITH new AS ({insert}) "
            f"INSERT INTO {quote(ConsentEvent._meta.db_table)} ({quote('subscriber_id')}, {', '.join(event_columns)}) "
            f"SELECT new.{quote(Subscriber._meta.pk.column)}, {', '.join(['%s'] * len(event_columns))} FROM new "
            f"RETURNING {quote('subscriber_id')}"
        )
        params = [*values, address_hash, *event_values]
    else:
        sql, params = insert, [*values, address_hash]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    subscriber.pk = row[0]
    subscriber._state.adding = False
    subscriber._state.db = connection.alias
    signed_up.subscriber_id = subscriber.pk
    if connection.vendor != "postgresql":
        signed_up.save(force_insert=True)  # inside the caller's transaction (needs_transaction)
    return True
