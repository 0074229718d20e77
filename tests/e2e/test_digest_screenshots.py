"""The digest as a reader sees it (issue 12): the lead story with its image, numbered stories,
the dateline in the configured style, at 600 and 375 px in Chromium. Writes the README's
docs/screenshots/digest-email-{600,375}.png into VAR_DIR/screenshots/ (copied by hand)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from newsletter.editions import compose
from newsletter.editions.segments import Segment
from newsletter.email.render import render_digest
from tests.e2e.conftest import check_at_widths
from tests.newsletter.digest_helpers import article, ranked_articles

pytestmark = pytest.mark.django_db(transaction=True)
LEAD_IMAGE = "https://img.example.com/lead.jpg"


def jpeg(width: int = 1200, height: int = 675) -> bytes:
    picture = Image.new("RGB", (width, height), (11, 83, 148))
    for x in range(0, width, 40):  # a few stripes, so the screenshot shows an image, not a block
        Image.Image.paste(picture, (230, 190, 90), (x, 0, x + 12, height))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def test_digest_with_a_lead_image_reads_right_to_left_at_both_widths(context_factory, settings) -> None:
    settings.NUMERALS = ""
    article(
        "الحكومة تعلن خطة جديدة للطاقة المتجددة في ٢٠٢٧",
        readers=5000,
        image_url=LEAD_IMAGE,
        image_alt="ألواح شمسية في محطة جنوب البلاد",
    )
    ranked_articles(7)
    digest = compose.compose(frequency="daily")
    html = render_digest(digest, Segment(language="ar")).html
    assert LEAD_IMAGE in html and 'alt="ألواح شمسية في محطة جنوب البلاد"' in html

    page = context_factory(javascript=False).new_page()
    image = jpeg()
    # The image host is outside the product: the browser gets the picture from here.
    page.route("https://img.example.com/**", lambda route: route.fulfill(body=image, content_type="image/jpeg"))
    page.set_content(html, wait_until="load")
    assert page.evaluate("document.querySelector('img').naturalWidth") == 1200
    written = check_at_widths(page, "digest-email", selector="div[role=article]", text_selector="div[role=article]")
    assert [path.name for path in written] == ["digest-email-600.png", "digest-email-375.png"]
