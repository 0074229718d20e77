"""The English edition is English around Arabic stories (issue 22): a subscriber whose language is
English gets an LTR email whose stories' own text (titles, summaries, hashtags) are Arabic blocks
with their own dir="rtl" lang="ar" and right alignment (EMAIL.md rules 1-5), sections under the
English name an editor gave them, and the edition's English intro (none when it is empty). The
Arabic email is unchanged by any of it. Where the full stops and "#" land on screen is checked
in a browser in tests/e2e/test_arabic_reading.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from articles.content.models import Section
from newsletter.editions import compose, curation
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email.render import render_digest
from newsletter.email.rtl import RLM
from tests.config.test_i18n import ARABIC
from tests.newsletter.digest_helpers import article

pytestmark = pytest.mark.django_db

ARABIC_BLOCK = {"dir": "rtl", "lang": "ar"}


class Elements(HTMLParser):
    """Every element's tag, attributes and own text, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "meta", "input", "link"}:
            return
        self.elements.append((tag, dict(attrs), []))
        self.open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            index = self.open.pop()
            if self.elements[index][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for index in self.open:
            self.elements[index][2].append(data)


def elements(html: str, css_class: str) -> list[tuple[dict[str, str | None], str]]:
    parser = Elements()
    parser.feed(html)
    found = []
    for tag, attrs, text in parser.elements:
        if css_class in (attrs.get("class") or "").split() or (css_class == "h2" and tag == "h2"):
            found.append((attrs, "".join(text)))
    return found


def is_arabic_block(attrs: dict[str, str | None]) -> bool:
    style = (attrs.get("style") or "").replace(" ", "")
    return (
        all(attrs.get(name) == value for name, value in ARABIC_BLOCK.items())
        and "direction:rtl" in style
        and "text-align:right" in style
    )


@pytest.fixture
def edition(settings) -> Digest:
    settings.DIGEST_MIN_STORIES = 3
    # Latin sender details: the only Arabic left in the English email is the stories' own.
    settings.SENDER_NAME = "Example News"
    settings.SENDER_POSTAL_ADDRESS = "1 Example Street, Baghdad"
    politics = Section.objects.create(name="سياسة", slug="siyasa", name_en="Politics")
    culture = Section.objects.create(name="ثقافة", slug="thaqafa")  # no English name
    for index, ordinal in enumerate(("الأول", "الثاني", "الثالث")):
        article(
            f"خبر رقم {ordinal} عن الحوار",
            readers=900 - index,
            sec=culture if index == 2 else politics,
            summary="ملخص الخبر ينتهي بنقطة.",
            tags=("الحوار_الاستراتيجي",),
        )
    return compose.compose(frequency="daily")


def test_arabic_titles_summaries_and_hashtags_are_arabic_blocks_in_the_english_email(edition) -> None:
    html = render_digest(edition, Segment(language="en")).html
    assert '<html lang="en" dir="ltr">' in html
    for css_class in ("h2", "summary", "hashtags"):
        found = elements(html, css_class)
        assert len(found) == 3, css_class
        assert all(is_arabic_block(attrs) for attrs, _text in found), (css_class, found)


def test_the_arabic_email_needs_no_blocks_of_its_own(edition) -> None:
    """In the Arabic email everything is already right to left: no extra attributes."""
    html = render_digest(edition, Segment(language="ar")).html
    assert not any(attrs.get("lang") == "ar" for attrs, _text in elements(html, "h2"))


def test_sections_carry_their_english_name_in_the_english_email(edition) -> None:
    english = render_digest(edition, Segment(language="en"))
    sections = elements(english.html, "section-name")
    assert [text for _attrs, text in sections] == ["Politics", "Politics", "ثقافة"]
    # An English name is English text; a section without one is shown in Arabic, as a block.
    assert not is_arabic_block(sections[0][0]) and is_arabic_block(sections[2][0])
    assert "Politics" in english.text and "سياسة" not in english.html + english.text
    arabic = render_digest(edition, Segment(language="ar"))
    assert "سياسة" in arabic.html and "Politics" not in arabic.html + arabic.text


def test_the_english_text_part_holds_the_arabic_lines_right_to_left(edition) -> None:
    text = render_digest(edition, Segment(language="en")).text
    _subject, *lines = text.splitlines()  # the subject ends with the lead's headline
    story_lines = [line for line in lines if ARABIC.search(line)]
    assert story_lines and all(line.startswith(RLM) and line.endswith(RLM) for line in story_lines)
    assert f"{RLM}ملخص الخبر ينتهي بنقطة.{RLM}" in text.splitlines()
    assert "(1) " in text and "1." not in text  # the rank in brackets, never "1."


def test_the_english_intro_goes_to_the_english_segment_only(edition) -> None:
    curation.set_texts(digest_id=edition.pk, intro="صباح الخير، هذه أبرز القصص.", intro_en="Good morning.\n\nBye.")
    edition.refresh_from_db()
    english = render_digest(edition, Segment(language="en"))
    arabic = render_digest(edition, Segment(language="ar"))
    assert re.search(r"<p[^>]*>Good morning\.</p>", english.html) and re.search(r"<p[^>]*>Bye\.</p>", english.html)
    assert "Good morning." in english.text and "صباح الخير" not in english.html + english.text
    assert "صباح الخير، هذه أبرز القصص." in arabic.html and "Good morning" not in arabic.html + arabic.text


def test_no_english_intro_means_no_intro_in_the_english_email(edition) -> None:
    curation.set_texts(digest_id=edition.pk, intro="صباح الخير، هذه أبرز القصص.")
    edition.refresh_from_db()
    english = render_digest(edition, Segment(language="en"))
    assert "صباح الخير" not in english.html + english.text
    heading_to_first_story = re.search(r"</h1>(.*?)<table", english.html, flags=re.S).group(1)
    assert heading_to_first_story.count("<p") == 1  # the dateline, and no intro paragraph


def test_the_english_site_shows_the_english_section_name(edition) -> None:
    client = Client()
    client.cookies["django_language"] = "en"
    politics = Section.objects.get(slug="siyasa")
    home = client.get("/").content.decode()
    listing = client.get(politics.get_absolute_url()).content.decode()
    assert "Politics" in home and "سياسة" not in home
    assert '<h1 id="list-title">Politics</h1>' in listing
    arabic = Client().get(politics.get_absolute_url()).content.decode()
    assert '<h1 id="list-title">سياسة</h1>' in arabic and "Politics" not in arabic
