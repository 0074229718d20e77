"""Migration 0011: the dispatch snapshot's rows carry no database foreign key to the edition (and
receipts none to the subscriber either), because their per-row checks were a third of a
1,000,000-recipient snapshot. What those constraints did must still hold: deleting an edition or
a subscriber deletes their rows, and the Delivery row keeps the database's check that its
subscriber exists."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from newsletter.delivery import dispatch
from newsletter.models import Delivery, Digest, Receipt, Subscriber
from tests.integration.helpers import make_digest, make_subscribers
from tests.requirements import require_postgres

pytestmark = pytest.mark.django_db


def _foreign_keys(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.attname FROM pg_constraint c
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
               WHERE c.contype = 'f' AND c.conrelid = %s::regclass""",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_only_the_delivery_to_subscriber_key_is_checked_by_the_database() -> None:
    require_postgres("reads pg_constraint")
    assert _foreign_keys(Delivery._meta.db_table) == {"subscriber_id"}
    assert _foreign_keys(Receipt._meta.db_table) == set()


def test_deleting_an_edition_or_a_subscriber_deletes_their_snapshot_rows() -> None:
    digest = make_digest()
    make_subscribers(5)
    assert dispatch.dispatch(digest_id=digest.id, enqueue=False).audience == 5
    leaving = Subscriber.objects.order_by("id").first()
    assert leaving is not None
    leaving.delete()
    assert not Receipt.objects.filter(subscriber_id=leaving.id).exists()
    assert not Delivery.objects.filter(subscriber_id=leaving.id).exists()
    assert Receipt.objects.filter(digest=digest).count() == Delivery.objects.filter(digest=digest).count() == 4
    Digest.objects.filter(id=digest.id).delete()
    assert not Receipt.objects.filter(digest_id=digest.id).exists()
    assert not Delivery.objects.filter(digest_id=digest.id).exists()


def test_a_delivery_for_a_missing_subscriber_is_refused_by_the_database() -> None:
    require_postgres("SQLite's foreign keys are checked at the end of the test's transaction")
    digest = make_digest()
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(digest=digest, subscriber_id=10**12)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
