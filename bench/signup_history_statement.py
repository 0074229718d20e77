"""The signup hot path's statement with and without its consent history row (issue 22): the
plain INSERT ... ON CONFLICT the product used before, against the data-modifying CTE that also
writes the "signed up" row (newsletter.subscribers.signup_insert), alternating in rounds on new
addresses, autocommitted like a signup without topics (`IN_TRANSACTION=1`: all inside one
transaction, rolled back, which leaves out the commit's WAL flush).

    (source bench/common.sh  # DEBUG=0 and its throw-away production settings
     DATABASE_URL=postgres://.../h_bench .venv/bin/python bench/signup_history_statement.py [ROUNDS] [PER_ROUND])
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from newsletter.subscribers import consent, signup_insert  # noqa: E402
from newsletter.subscribers.addresses import email_hash  # noqa: E402
from newsletter.subscribers.models import ConsentEvent, Subscriber  # noqa: E402

Row = tuple[Subscriber, ConsentEvent, str]


def new_row(tag: str) -> Row:
    now = timezone.now()
    address = f"bench-{tag}-{uuid.uuid4().hex[:12]}@example.com"
    subscriber = Subscriber(
        email=address,
        status="pending",
        created_at=now,
        last_confirmation_sent_at=now,
        source="form",
        consent_text_version=settings.CONSENT_TEXT_VERSION,
        signup_ip_hash="a" * 64,
        signup_user_agent_hash="b" * 64,
    )
    signed_up = consent.event(
        subscriber_id=0,
        kind="signed_up",
        source="form",
        status="pending",
        at=now,
        consent_text_version=settings.CONSENT_TEXT_VERSION,
        ip_hash="a" * 64,
        user_agent_hash="b" * 64,
    )
    return subscriber, signed_up, email_hash(address)


def plain(row: Row) -> None:
    """The statement before issue 22: the CTE's INSERT on its own."""
    subscriber, _, address_hash = row
    columns, values = signup_insert._columns_and_values(subscriber, connection)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote('newsletter_subscriber')} ({', '.join(columns)}) "
        f"SELECT {', '.join(['%s'] * len(columns))} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote('newsletter_suppression')} WHERE {quote('email_hash')} = %s) "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, address_hash])
        cursor.fetchone()


def with_history(row: Row) -> None:
    subscriber, signed_up, address_hash = row
    assert signup_insert.insert_unless_known(subscriber, address_hash=address_hash, signed_up=signed_up)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    per_round = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    in_transaction = bool(os.environ.get("IN_TRANSACTION"))
    if in_transaction:
        transaction.set_autocommit(False)
    totals = {"plain INSERT": 0.0, "INSERT + history (CTE)": 0.0}
    for number in range(rounds):
        for name, statement in (("plain INSERT", plain), ("INSERT + history (CTE)", with_history)):
            rows = [new_row(f"{number}") for _ in range(per_round)]
            started = time.perf_counter()
            for row in rows:
                statement(row)
            totals[name] += time.perf_counter() - started
    if in_transaction:
        transaction.rollback()
    for name, total in totals.items():
        print(f"{name}: {total / (rounds * per_round) * 1000:.3f} ms per signup ({rounds * per_round} statements)")


if __name__ == "__main__":
    main()
