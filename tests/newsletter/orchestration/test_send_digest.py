"""`send_digest`: end to end through newsletter.sending into the .eml outbox (done-means 1, 2),
the dry run, and the "too few stories" and approval guards."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from newsletter.delivery.models import Delivery
from newsletter.editions import curation
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import ranked_articles, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox_backend(settings) -> None:
    # pytest-django switches EMAIL_BACKEND to locmem; these tests read the real .eml files.
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_digest", *args, stdout=out)
    return out.getvalue()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def headline_order(html: str) -> list[str]:
    return re.findall(r"<h2[^>]*>(?:<span class=\"rank\"[^>]*>[^<]*</span> )?<a [^>]*>([^<]+)</a></h2>", html)


def test_sync_sends_one_digest_per_active_daily_subscriber_with_curation_applied(outbox) -> None:
    articles = ranked_articles(14)
    daily = [subscriber(f"reader{i}@example.com") for i in range(3)]
    subscriber("weekly@example.com", frequency="weekly")
    subscriber("pending@example.com", status=Subscriber.Status.PENDING)
    subscriber("gone@example.com", status=Subscriber.Status.UNSUBSCRIBED)
    # An editor prepares the next edition: pins the 12th most read, removes the most read.
    digest = runs.next_draft("daily")
    curation.add_article(digest_id=digest.pk, article_id=articles[11].pk)
    curation.set_positions(digest_id=digest.pk, item_ids=[digest.items.get(article=articles[11]).pk])
    curation.remove(digest_id=digest.pk, article_id=articles[0].pk)

    output = run("--frequency", "daily", "--sync")

    assert "sent: 3, failed: 0" in output
    messages = outbox()
    assert sorted(m["To"] for m in messages) == sorted(s.email for s in daily)
    expected = [articles[11].title] + [a.title for a in articles[1:11]][:9]
    for message in messages:
        assert headline_order(html_part(message)) == expected
    assert Digest.objects.get(pk=digest.pk).status == Digest.Status.SENT
    # A second run for the same period sends nothing more.
    run("--frequency", "daily", "--sync")
    assert len(outbox()) == 3
    assert Delivery.objects.filter(digest=digest).count() == 3


def test_each_digest_is_multipart_with_own_list_unsubscribe(outbox) -> None:
    ranked_articles(5)
    readers = {s.email: s for s in (subscriber("a@example.com"), subscriber("b@example.com"))}
    run("--frequency", "daily", "--sync")
    messages = outbox()
    assert len(messages) == 2
    seen = set()
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}
        unsubscribe = message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.search(r"<(https?://[^>]+)>", unsubscribe).group(1)
        seen.add(url)
        # The footer carries the same recipient's link, in both parts.
        assert url in html_part(message)
        assert url in message.get_body(preferencelist=("plain",)).get_content()
        assert "[[" not in html_part(message)
        assert readers[message["To"]].email == message["To"]
    assert len(seen) == 2


def test_too_few_stories_sends_nothing_and_says_why(outbox) -> None:
    ranked_articles(2)
    subscriber("a@example.com")
    output = run("--frequency", "daily", "--sync")
    assert "skipped" in output
    digest = Digest.objects.get()
    assert digest.status == Digest.Status.SKIPPED and "٢" in digest.skip_reason
    assert outbox() == []


def test_dry_run_writes_html_and_sends_nothing(outbox, settings, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    articles = ranked_articles(4)
    subscriber("a@example.com")
    output = run("--frequency", "daily", "--dry-run")
    path = Path(re.search(r"written to (\S+)", output).group(1))
    assert path.exists() and articles[0].title in path.read_text(encoding="utf-8")
    assert articles[3].title in output
    assert outbox() == []
    assert not Digest.objects.exists()  # a dry run writes nothing (test_next_edition.py counts every table)
    assert not Delivery.objects.exists()


def test_waits_for_approval_when_required(outbox, settings) -> None:
    settings.DIGEST_REQUIRE_APPROVAL = True
    ranked_articles(4)
    subscriber("a@example.com")
    assert "waiting for approval" in run("--frequency", "daily", "--sync")
    assert outbox() == []
    digest = Digest.objects.get()
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.create_user("ed", "ed@example.com", "x")
    assert curation.approve(digest, editor)
    assert "sent: 1" in run("--frequency", "daily", "--sync")
    assert len(outbox()) == 1
