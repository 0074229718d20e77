"""What the deployment rehearsal found (issue 26, tests/integration/rehearsal.py), as an operator
would look it up from the ops host: the edition's rows in PostgreSQL (psql) and every address the
ESP accepted (the emulator's /_addresses), set side by side per subscriber; the waves, receipts
and editions of the day; what each beat's log says it sent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

EDITION_DAY = date(2030, 3, 5)


@dataclass
class Outcome:
    audience: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    edition_status: str = ""
    waves: int = 0
    receipts: int = 0
    accepted: int = 0  # audience members the ESP accepted (once or more)
    accepted_twice: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # neither accepted nor recorded unknown
    sent_not_accepted: list[str] = field(default_factory=list)
    unknown_reasons: dict[str, int] = field(default_factory=dict)
    unknown_without_reason: int = 0
    send_seconds: float = 0.0  # first seen sending -> sent, wall clock
    beats_fired: dict[str, int] = field(default_factory=dict)
    esp: dict[str, Any] = field(default_factory=dict)  # the emulator's own counts
    editions: list[str] = field(default_factory=list)  # every edition of the day: id, offset, status, counts
    readers: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)


def collect(
    outcome: Outcome,
    digest_id: str,
    *,
    sql: Callable[[str], list[list[str]]],
    http: Callable[[str], str],
    esp: str,
    logs: Path,
) -> None:
    """Fill `outcome` for edition `digest_id` (its wave): `sql` and `http` run on the ops host."""
    accepted: Counter[str] = Counter()
    for line in http(f"http://{esp}/_addresses").splitlines():
        address, _, count = line.partition("\t")
        accepted[address] = int(count)
    rows = sql(
        "SELECT s.email, d.status, d.error FROM newsletter_delivery d "
        f"JOIN newsletter_subscriber s ON s.id = d.subscriber_id WHERE d.digest_id = {digest_id}"
    )
    outcome.audience = len(rows)
    outcome.statuses = dict(Counter(status for _, status, _ in rows))
    reasons: Counter[str] = Counter()
    for email, status, error in rows:
        outcome.accepted += bool(accepted[email])
        if accepted[email] > 1:
            outcome.accepted_twice.append(email)
        if status == "sent" and not accepted[email]:
            outcome.sent_not_accepted.append(email)
        if not accepted[email] and status != "unknown":
            outcome.lost.append(f"{email} ({status})")
        if status == "unknown":
            reasons[error[:120]] += 1
            outcome.unknown_without_reason += not error.strip()
    outcome.unknown_reasons = dict(reasons)
    outcome.edition_status = sql(f"SELECT status FROM newsletter_digest WHERE id = {digest_id}")[0][0]
    day = f"frequency = 'daily' AND edition_date = '{EDITION_DAY}'"
    outcome.waves = int(sql(f"SELECT count(*) FROM newsletter_digest WHERE {day} AND utc_offset IS NOT NULL")[0][0])
    outcome.receipts = int(sql(f"SELECT count(*) FROM newsletter_receipt WHERE edition_date = '{EDITION_DAY}'")[0][0])
    outcome.esp = json.loads(http(f"http://{esp}/_stats"))
    outcome.editions = [
        " ".join(row)
        for row in sql(
            "SELECT id, coalesce(utc_offset::text, '-'), status, audience_count, sent_count, unknown_count "
            f"FROM newsletter_digest WHERE edition_date = '{EDITION_DAY}' ORDER BY id"
        )
    ]
    for name in ("beat", "second-beat"):
        log = logs / f"{name}.log"
        outcome.beats_fired[name] = (
            log.read_text(errors="replace").count("Sending due task Daily digest") if log.exists() else 0
        )
