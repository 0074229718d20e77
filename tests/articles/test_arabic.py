"""Normalisation and hashtags (articles.content.arabic)."""

from articles.content.arabic import extract_hashtags, link_hashtags, normalise, tag_key


def test_normalise_folds_hamza_tashkeel_tatweel_digits_and_case() -> None:
    assert normalise("أَمِيـــرْكَا") == normalise("اميركا") == "اميركا"
    assert normalise("إبراهيم آمن ٱلقرآن") == "ابراهيم امن القران"
    assert normalise("مصطفى مدرسة") == "مصطفي مدرسه"
    assert normalise("٢٠٢٥ ۱۴۰۳ Hello") == "2025 1403 hello"


def test_hashtags_with_tashkeel_and_digits_are_not_cut_short() -> None:
    [tag] = extract_hashtags("ناقش البرلمان #ميزانيةٌ_٢٠٢٥ اليوم")
    assert tag.raw == "ميزانيةٌ_٢٠٢٥"
    assert tag.name == "ميزانيةٌ ٢٠٢٥"
    assert tag.key == "ميزانيه 2025"


def test_hashtag_glued_to_conjunction_is_found() -> None:
    assert [t.key for t in extract_hashtags("بغداد و#قمة العرب")] == ["قمه"]


def test_spelling_variants_share_a_key_and_underscores_become_spaces() -> None:
    tags = extract_hashtags("#أميركا و #اميركا و #الحوار_الاستراتيجي #فؤاد_حسين")
    assert [t.key for t in tags] == ["اميركا", "الحوار الاستراتيجي", "فؤاد حسين"]
    assert tags[1].name == "الحوار الاستراتيجي"
    assert tag_key("الحوار_الاستراتيجي") == tag_key("الحوار الاستراتيجي")


def test_not_hashtags_urls_entities_and_numbers() -> None:
    assert extract_hashtags("http://example.com/page#section &#1234; #123 issue#5") == []


def test_link_hashtags_only_in_text_nodes() -> None:
    html = '<p title="#داعش">خبر عن #داعش و <a href="/x">#داعش</a></p><img alt="#داعش" src="/i.png">'
    out = link_hashtags(html, lambda tag: f"/tags/{tag.key}/")
    assert out.count('class="hashtag"') == 1
    assert '<p title="#داعش">' in out and '<a href="/x">#داعش</a>' in out and 'alt="#داعش"' in out
    assert '<a class="hashtag" href="/tags/داعش/" rel="tag">#داعش</a>' in out


def test_link_hashtags_escapes_text_and_skips_unknown() -> None:
    out = link_hashtags("<p>a &lt;b&gt; #مجهول</p>", lambda tag: None)
    assert out == "<p>a &lt;b&gt; #مجهول</p>"
