"""What Chromium draws (issue 22): where a browser's own list numbers, a URL's closing "/" and an
Arabic sentence's full stop land on screen, which no HTML text check can see.

- Ranked lists (the most read, an edition in the archive) draw no list markers of the browser's:
  those are Western digits with a full stop ("1.", "10."), and beside an Arabic-Indic digit a
  full stop reads as a zero. Their ranks are written in the page's numerals instead.
- The confirmation email's copy-this-link address reads left to right with its closing "/" at
  its end, in the HTML part also where a client keeps the inline styles but drops the `dir`
  attributes (EMAIL.md rules 1-3), and in the plain-text part shown right to left.
- In the English edition the Arabic summary's full stop is at the sentence's end (its left) and
  a hashtag's "#" at the tag's start (its right): the stories are Arabic blocks.
"""

from __future__ import annotations

import re

import pytest

from articles.content.models import Section
from newsletter.editions import compose
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email.links import archive_url
from newsletter.email.render import render_digest
from newsletter.subscribers.emails import EmailKind, build_subscriber_email
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import article, ranked_articles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser's numbering: every list item drawn with a counter marker, and its marker style.
NUMBERED_ITEMS = """() => Array.from(document.querySelectorAll('li'))
  .filter(li => getComputedStyle(li).display === 'list-item')
  .map(li => getComputedStyle(li).listStyleType)
  .filter(type => !['none', 'disc', 'circle', 'square', 'disclosure-open', 'disclosure-closed'].includes(type)
                  && !type.startsWith('"'))"""

# x of the left edge of the characters at `first` and `last` of the text node holding `needle`,
# and whether they sit on one line.
CHARACTER_PLACES = """([needle, first, last]) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const start = node.data.indexOf(needle);
    if (start < 0) continue;
    const rect = (offset) => {
      const index = start + (offset < 0 ? needle.length + offset : offset);
      const range = document.createRange();
      range.setStart(node, index);
      range.setEnd(node, index + 1);
      return range.getBoundingClientRect();
    };
    const a = rect(first), b = rect(last);
    return {first: a.left, last: b.left, sameLine: Math.abs(a.top - b.top) < 2};
  }
  return null;
}"""


def places(page, needle: str, first: int, last: int) -> dict[str, float]:
    found = page.evaluate(CHARACTER_PLACES, [needle, first, last])
    assert found is not None, f"{needle!r} is not on the page"
    assert found["sameLine"], found
    return found


def test_ranked_lists_write_their_own_numbers(site, page) -> None:
    ranked_articles(4)
    digest = compose.compose(frequency="daily")
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    for path in ("/", digest.items.first().article.get_absolute_url(), archive_url(digest).removeprefix(site.url)):
        page.goto(site.url + path.removeprefix("http://testserver"))
        assert page.evaluate(NUMBERED_ITEMS) == [], path
        ranks = page.locator(".rank").all_inner_texts()
        assert ranks[:3] == ["١", "٢", "٣"], path


@pytest.mark.parametrize("drop_dir", [False, True], ids=["as-sent", "client-drops-dir"])
def test_the_confirmation_address_reads_left_to_right(page, drop_dir: bool) -> None:
    pending = Subscriber.objects.create(email="muntazir@example.com")
    message = build_subscriber_email(pending, EmailKind.CONFIRMATION)
    html = message.alternatives[0][0]
    url = re.search(r"https?://\S+/confirm/[^\s<\"]+", message.body).group(0)
    if drop_dir:
        html = re.sub(r'\sdir="[^"]*"', "", html)
    page.set_content(html)
    # The closing "/" is drawn after the token's last letter, to its right.
    found = places(page, url, -2, -1)
    assert found["last"] > found["first"], found
    # The plain-text part, shown right to left as an Arabic reader's client shows it.
    page.set_content('<pre id="text" dir="rtl" style="white-space:pre-wrap;width:1400px"></pre>')
    page.locator("#text").evaluate("(pre, text) => { pre.textContent = text; }", message.body)
    found = places(page, url, -2, -1)
    assert found["last"] > found["first"], found


def test_full_stops_and_hashtags_keep_their_arabic_side_in_the_english_email(page, settings) -> None:
    settings.DIGEST_MIN_STORIES = 1
    culture = Section.objects.create(name="ثقافة", slug="thaqafa", name_en="Culture")
    article("معرض الكتاب يفتح أبوابه", readers=100, sec=culture, summary="افتتح المعرض اليوم.", tags=("معرض_الكتاب",))
    rendered = render_digest(compose.compose(frequency="daily"), Segment(language="en"))
    page.set_content(rendered.html)
    # The full stop ends the sentence: in Arabic, to the left of its last letter.
    found = places(page, "افتتح المعرض اليوم.", -2, -1)
    assert found["last"] < found["first"], found
    # The "#" opens the tag: in Arabic, to the right of its first letter.
    found = places(page, "#معرض الكتاب", 0, 1)
    assert found["first"] > found["last"], found
