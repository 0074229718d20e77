"""Migrations 0011 and 0012: the dispatch snapshot's rows (Receipt, Delivery) carry no database
foreign keys, because their per-row checks were most of a 1,000,000-recipient snapshot and the
subscriber check, run at commit, failed a whole dispatch when a reader was erased during it.
What those constraints did must still hold: deleting an edition or a subscriber deletes their
rows, and a row left behind by a reader erased mid-snapshot is skipped, never sent."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from newsletter import privacy
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery, Receipt
from newsletter.editions.models import Digest
from newsletter.subscribers.models import Subscriber
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


def test_the_snapshot_rows_have_no_database_foreign_keys() -> None:
    require_postgres("reads pg_constraint")
    assert _foreign_keys(Delivery._meta.db_table) == set()
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


@pytest.mark.django_db(transaction=True)
def test_a_subscriber_erased_while_the_snapshot_commits_neither_fails_the_dispatch_nor_receives_it(
    admin_client: Client,
) -> None:
    """A reader erased (privacy.erase) after the snapshot read them but before it committed: the
    edition is still dispatched to everyone else, and the erased reader's row is skipped at send
    time. With a database key from Delivery to Subscriber, the commit's deferred check failed
    and the whole dispatch of the edition rolled back."""
    require_postgres("needs two connections writing at once")
    digest = make_digest()
    make_subscribers(5)
    leaving = Subscriber.objects.order_by("id").first()
    assert leaving is not None
    erased: list[BaseException | None] = []

    def erase_in_another_connection() -> None:
        try:
            privacy.erase(subscriber=Subscriber.objects.get(id=leaving.id))
            erased.append(None)
        except BaseException as exc:  # reported to the test's thread below
            erased.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():  # dispatch's own atomic block becomes a savepoint of this one
        assert dispatch.dispatch(digest_id=digest.id, enqueue=False).audience == 5
        eraser = threading.Thread(target=erase_in_another_connection)
        eraser.start()
        eraser.join(timeout=30)
    assert erased == [None]
    assert not Subscriber.objects.filter(id=leaving.id).exists()

    report = dispatch.send_all_sync(digest_id=digest.id, sleep=lambda _seconds: None)
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT
    assert (report.audience, report.sent, report.skipped, report.queued) == (5, 4, 1, 0)
    assert list(Delivery.objects.filter(subscriber_id=leaving.id).values_list("error", flat=True)) == [
        "subscriber no longer exists"
    ]
    # the row left behind still opens in the admin's delivery screen (no missing-object error)
    admin_client.force_login(User.objects.create_superuser("root-admin", "root@example.com", "x"))
    orphan = Delivery.objects.get(subscriber_id=leaving.id)
    page = admin_client.get(reverse("admin:newsletter_delivery_change", args=[orphan.id]))
    assert page.status_code == 200
    assert leaving.email not in {m.to[0] for m in mail.outbox}
