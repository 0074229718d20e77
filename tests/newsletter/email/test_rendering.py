"""The digest email as rendered once per segment: EMAIL.md rules (direction, inlined CSS, size,
preheader, images, Latin runs, RLM, Arabic dates), story content, merge fields, segments."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from newsletter.editions import compose, curation, segments
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email import rtl
from newsletter.email.render import merge, neutral_merge_field, render_digest, render_segment
from newsletter.email.rtl import RLM
from tests.config.test_i18n import ARABIC
from tests.newsletter.digest_helpers import article, ranked_articles, section

pytestmark = pytest.mark.django_db


def composed(count: int = 5) -> Digest:
    ranked_articles(count)
    return compose.compose(frequency="daily")


def style_blocks(html: str) -> list[str]:
    return re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)


def test_direction_and_language_on_html_and_wrapper() -> None:
    rendered = render_digest(composed(), Segment(language="ar"))
    html = rendered.html
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    wrapper = re.search(r'<div[^>]*role="article"[^>]*>', html).group(0)
    assert 'lang="ar"' in wrapper and 'dir="rtl"' in wrapper
    assert "direction: rtl" in wrapper.replace("direction:rtl", "direction: rtl")
    assert "text-align: right" in wrapper.replace("text-align:right", "text-align: right")
    tables = re.findall(r"<table[^>]*>", html)
    assert tables and all('dir="rtl"' in t and 'role="presentation"' in t for t in tables)
    assert re.search(r'<table[^>]*width="600"[^>]*>', html)
    assert "start" not in re.sub(r"<[^>]*>[^<]*", "", " ".join(re.findall(r'text-align:[^;"]*', html)))
    assert "letter-spacing" not in html


def test_only_media_queries_left_in_style() -> None:
    html = render_digest(composed(), Segment(language="ar")).html
    for block in style_blocks(html):
        without_media = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", block)
        assert without_media.strip() == "", without_media
    assert 'class="container"' in html and "width: 600px" in html  # inlined, not left in <style>
    assert "'Noto Naskh Arabic', Tahoma, Arial, sans-serif" in html
    assert "line-height: 1.7" in html


def test_preheader_is_first_in_body_and_hidden() -> None:
    digest = composed()
    curation.set_texts(digest_id=digest.pk, preheader="أبرز ما قرأه الناس اليوم")
    digest.refresh_from_db()
    html = render_digest(digest, Segment(language="ar")).html
    body = html.split("<body", 1)[1].split(">", 1)[1].lstrip()
    first = re.match(r"<div[^>]*>([^<]*)</div>", body)
    assert first and first.group(1) == "أبرز ما قرأه الناس اليوم"
    assert "display:none" in first.group(0).replace(" ", "") and "mso-hide:all" in first.group(0).replace(" ", "")


def test_story_content_links_images_and_hashtags(settings) -> None:
    settings.DIGEST_UTM_PARAMS = "utm_source=nl&utm_medium=email"
    # Direct story links (first-party click tracking off); the /c/ links: tests/newsletter/analytics/.
    settings.ANALYTICS_CLICK_TRACKING = False
    ranked_articles(3)
    featured = article(
        "قمة G20 في New York تبحث المناخ",
        readers=9999,
        tags=("المناخ_العالمي",),
        image_url="https://img.example.com/a.jpg",
        image_alt="قادة العالم في القمة",
        sec=section("اقتصاد", "economy"),
    )
    digest = compose.compose(frequency="daily")
    rendered = render_digest(digest, Segment(language="ar"))
    html = rendered.html
    url = f"http://testserver{featured.get_absolute_url()}"
    assert re.search(
        re.escape(url.replace("&", "&amp;")) + r"\?utm_source=nl&amp;utm_medium=email&amp;utm_campaign=daily-", html
    )
    assert re.search(r'<img [^>]*src="https://img.example.com/a.jpg"[^>]*>', html)
    img = re.search(r"<img [^>]*>", html).group(0)
    assert 'width="552"' in img and 'alt="قادة العالم في القمة"' in img and "height: auto" in img
    assert "#المناخ العالمي" in html and "اقتصاد" in html
    assert '<span dir="ltr">G20</span>' in html and '<span dir="ltr">New York</span>' in html
    assert not re.search(r"<a [^>]*dir=", html)
    # Plain text: written for reading, with the links spelled out.
    assert "قمة G20 في New York تبحث المناخ" in rendered.text
    assert f"{url}?utm_source=nl" in rendered.text
    assert "<" not in rendered.text.replace("<http", "")


def test_canonical_url_used_when_set(settings) -> None:
    settings.ANALYTICS_CLICK_TRACKING = False  # the direct link (the /c/ redirect leads to the same URL)
    ranked_articles(3)
    article("خبر من موقع آخر", readers=5000, canonical_url="https://news.example.org/a/1?x=1")
    html = render_digest(compose.compose(frequency="daily"), Segment(language="ar")).html
    assert "https://news.example.org/a/1?x=1&amp;utm_source=newsletter" in html


def test_footer_identity_reason_and_merge_fields(settings) -> None:
    settings.SENDER_NAME = "صحيفة المثال"
    settings.SENDER_POSTAL_ADDRESS = "ص.ب ١٢٣، بغداد"
    digest = composed()
    rendered = render_digest(digest, Segment(language="ar"))
    for part in (rendered.html, rendered.text):
        assert "صحيفة المثال" in part and "ص.ب ١٢٣، بغداد" in part
        assert "لأنك اشتركت" in part
        assert neutral_merge_field("unsubscribe_url") in part
        assert neutral_merge_field("preferences_url") in part
        assert f"http://testserver/archive/daily/{digest.edition_date:%Y-%m-%d}/" in part
    personal = merge(
        rendered,
        {"unsubscribe_url": "https://x.test/u/1/", "preferences_url": "https://x.test/p/1/", "click_token": "s1:ab"},
    )
    assert "[[" not in personal.html + personal.text + personal.subject
    assert 'href="https://x.test/u/1/"' in personal.html


def test_custom_merge_field_syntax_is_all_that_differs() -> None:
    digest = composed()
    mailgun = render_digest(digest, Segment(language="ar"), merge_field=lambda n: f"%recipient.{n}%")
    neutral = render_digest(digest, Segment(language="ar"))
    assert (
        mailgun.html.replace("%recipient.", "[[").replace("url%", "url]]").replace("token%", "token]]") == neutral.html
    )


def test_generated_subject_in_arabic_with_date_and_top_headline(settings) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    ranked_articles(4, at=datetime(2026, 11, 22, 9, tzinfo=tz), prefix="عنوان")
    digest = compose.compose(frequency="daily", now=datetime(2026, 11, 22, 9, tzinfo=tz))
    rendered = render_digest(digest, Segment(language="ar"))
    assert rendered.subject == "الأكثر قراءة: الأحد ٢٢ نوفمبر — عنوان 0 عن الأحداث"
    assert "الأحد ٢٢ نوفمبر ٢٠٢٦" in rendered.html
    curation.set_texts(digest_id=digest.pk, subject="BBC: مقابلة خاصة")
    digest.refresh_from_db()
    assert render_digest(digest, Segment(language="ar")).subject == RLM + "BBC: مقابلة خاصة"


def test_text_lines_starting_latin_get_rlm() -> None:
    ranked_articles(3)
    article("2025 عام الانتخابات", readers=5000, summary="CNN تنقل عن مصادر")
    text = render_digest(compose.compose(frequency="daily"), Segment(language="ar")).text
    lines = text.splitlines()
    assert RLM + "CNN تنقل عن مصادر" in lines
    assert all(not re.match(r"[A-Za-z0-9]", line) for line in lines if line.strip())
    assert "(١) 2025 عام الانتخابات" in lines  # ranks in brackets: "١." reads "١٠" (issue 22)


def test_script_in_title_is_escaped() -> None:
    ranked_articles(3)
    article("<script>alert(1)</script> خبر", readers=5000)
    rendered = render_digest(compose.compose(frequency="daily"), Segment(language="ar"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


def test_size_under_gmail_clip_with_ten_long_stories() -> None:
    for i in range(12):
        article(
            "عنوان طويل " * 12 + str(i),
            readers=1000 - i,
            summary="ملخص مفصل للخبر " * 30,
            tags=("وسم_أول", "وسم_ثان"),
            image_url=f"https://img.example.com/{i}.jpg",
        )
    html = render_digest(compose.compose(frequency="daily"), Segment(language="ar")).html
    assert html.count("<h2") == 10
    assert len(html.encode()) < 102 * 1024


def test_english_segment_left_to_right() -> None:
    rendered = render_digest(composed(), Segment(language="en"))
    assert '<html lang="en" dir="ltr">' in rendered.html
    wrapper = re.search(r'<div[^>]*role="article"[^>]*>', rendered.html).group(0)
    assert 'dir="ltr"' in wrapper and "text-align: left" in wrapper.replace("text-align:left", "text-align: left")
    assert "Unsubscribe" in rendered.html and "Most read:" in rendered.subject
    assert RLM not in rendered.subject
    # RLMs hold only the stories' Arabic lines right to left, never the English text around them.
    assert all(ARABIC.search(line) for line in rendered.text.splitlines() if RLM in line)


def test_topic_segment_gets_its_sections_most_read_and_a_labelled_top_up(settings) -> None:
    settings.DIGEST_MIN_STORIES = 2
    sport, economy = section("رياضة", "sport"), section("اقتصاد", "economy")
    sports = [article(f"رياضة {i}", readers=900 - i, sec=sport) for i in range(2)]
    economics = [article(f"اقتصاد {i}", readers=800 - i, sec=economy) for i in range(3)]
    digest = compose.compose(frequency="daily")
    rendered = render_segment(segments.EditionStories(digest), Segment(language="ar", section_ids=(sport.pk,)))
    titles = re.findall(r"<h2[^>]*>.*?<a [^>]*>([^<]+)</a></h2>", rendered.html)
    assert titles == [a.title for a in sports] and "الأكثر قراءة في الموقع" not in rendered.html
    empty = render_segment(segments.EditionStories(digest), Segment(language="ar", section_ids=(section("x", "x").pk,)))
    titles = re.findall(r"<h2[^>]*>.*?<a [^>]*>([^<]+)</a></h2>", empty.html)
    assert titles == [a.title for a in sports]  # topped up from the general list, under its heading
    assert "الأكثر قراءة في الموقع" in empty.html and "الأكثر قراءة في الموقع" in empty.text
    with pytest.raises(ValueError):
        render_digest(digest, Segment(language="ar", section_ids=(sport.pk,)))  # no silent filtering
    assert economics


def test_stories_numbered_lead_has_image_and_hashtags_link_to_tag_pages() -> None:
    first = article("الخبر الأول", readers=900, image_url="https://cdn.example.com/a.jpg", tags=("قمة_بغداد",))
    article("الخبر الثاني", readers=800, image_url="https://cdn.example.com/b.jpg")
    article("الخبر الثالث", readers=700)
    html = render_digest(compose.compose(frequency="daily"), Segment(language="ar")).html
    numbers = re.findall(r'<span class="rank"[^>]*>([^<]+)</span>', html)
    assert numbers == ["(١)", "(٢)", "(٣)"]  # a full stop beside ١ reads ١٠ (issue 22)
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) == 1 and "a.jpg" in images[0]  # only the lead shows its image
    assert 'width="552"' in images[0] and 'alt="الخبر الأول"' in images[0]
    tag = first.tags.get()
    assert re.search(
        rf'<a [^>]*class="hashtag"[^>]*href="[^"]*{re.escape(tag.get_absolute_url())}"', html
    ) or re.search(rf'<a [^>]*href="[^"]*{re.escape(tag.get_absolute_url())}"[^>]*class="hashtag"', html)


def test_topic_segment_query_count_is_fixed(django_assert_num_queries, settings) -> None:
    sport = section("رياضة", "sport")
    for i in range(10):
        article(f"خبر {i}", readers=100 - i, tags=("أ", f"ج{i}"))
        article(f"رياضة {i}", readers=50 - i, sec=sport, tags=("ر", f"س{i}"))
    digest = Digest.objects.get(pk=compose.compose(frequency="daily").pk)
    # items with their tags, previous edition, most_read (eligibility, days, recency, articles),
    # the ranked stories' tags
    with django_assert_num_queries(8):
        render_segment(segments.EditionStories(digest), Segment(language="ar", section_ids=(sport.pk,)))


def test_segments_of_an_edition_share_its_items_and_one_ranking_per_topic_choice(
    django_assert_num_queries, settings
) -> None:
    settings.DIGEST_MIN_STORIES = 2
    sport, economy = section("رياضة", "sport"), section("اقتصاد", "economy")
    for i in range(4):
        article(f"رياضة {i}", readers=90 - i, sec=sport, tags=(f"ر{i}",))
        article(f"اقتصاد {i}", readers=80 - i, sec=economy)
    digest = Digest.objects.get(pk=compose.compose(frequency="daily").pk)
    stories = segments.EditionStories(digest)
    # items + tags, previous edition (2), most_read for sport, the ranked stories' tags
    with django_assert_num_queries(8):
        arabic = render_segment(stories, Segment(language="ar", section_ids=(sport.pk,)))
    with django_assert_num_queries(0):  # same topics in English: the ranking is shared
        english = render_segment(stories, Segment(language="en", section_ids=(sport.pk,)))
        render_segment(stories, Segment(language="en"))  # the general list is already loaded
    with django_assert_num_queries(5):  # another topic choice: only its own ranking and tags
        render_segment(stories, Segment(language="ar", section_ids=(economy.pk,)))
    alone = render_segment(segments.EditionStories(digest), Segment(language="en", section_ids=(sport.pk,)))
    assert english is not None and alone is not None and english.html == alone.html
    assert arabic is not None and arabic.html != english.html


def test_render_query_count_is_fixed(django_assert_num_queries) -> None:
    for i in range(10):
        article(f"خبر {i}", readers=100 - i, tags=("أ", "ب", f"ج{i}"))
    digest = compose.compose(frequency="daily")
    digest = Digest.objects.get(pk=digest.pk)
    with django_assert_num_queries(2):  # items with article+section, then all their tags
        render_digest(digest, Segment(language="ar"))


def test_format_date_arabic() -> None:
    assert rtl.format_date(date(2026, 1, 3), language="ar") == "السبت ٣ يناير ٢٠٢٦"
    assert rtl.format_date(date(2026, 1, 3), language="en") == "Saturday 3 January 2026"


def test_rendering_writes_nothing_and_returns_its_links_targets(settings) -> None:
    """Rendering is pure: the click redirect's targets come back with the email, for the caller
    to store (newsletter.clicks.targets); Redis is left alone."""
    from newsletter.email import links
    from sitewide.redis_client import get_redis

    settings.ANALYTICS_CLICK_TRACKING = True
    digest = composed()
    get_redis().flushdb()
    rendered = render_digest(digest, Segment(language="ar"))
    assert get_redis().exists(links.targets_key(digest.pk)) == 0
    items = list(digest.items.filter(removed=False).select_related("article"))
    assert set(rendered.click_targets) == {item.article_id for item in items}
    for item in items:
        story_url = item.article.canonical_url or item.article.get_absolute_url()
        assert story_url.split("?")[0] in rendered.click_targets[item.article_id]
    # The per-recipient copy keeps them; an untracked rendering has none.
    assert merge(rendered, dict.fromkeys(("unsubscribe_url", "preferences_url", "click_token"), "x")).click_targets
    settings.ANALYTICS_CLICK_TRACKING = False
    assert render_digest(digest, Segment(language="ar")).click_targets == {}
