"""Cases from feedparser's own test corpus (fixtures/feedparser_corpus, its README names the
source, commit and licence), issue 23: messy but honest feeds import, one bad entry no longer
blocks the good ones, dangerous ones are refused, titles are stored as plain text, bodies stay
inert and a second import changes nothing. bench/feed_corpus.py runs the whole corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from articles.content import feeds
from articles.content.models import Article

CORPUS = Path(__file__).parent / "fixtures" / "feedparser_corpus"
CASES = sorted(str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*") if path.suffix in (".xml", ".json"))
MARKUP = re.compile(r"<[A-Za-z!/?]|&lt;|&#")


def case(name: str) -> str:
    return str(CORPUS / name)


def snapshot() -> list[tuple]:
    return list(Article.objects.order_by("pk").values_list("pk", "guid", "title", "body", "summary", "updated_at"))


def test_the_fixture_corpus_is_what_its_readme_lists() -> None:
    readme = (CORPUS / "README.md").read_text()
    assert len(CASES) == 35 and "35 files" in readme
    assert "a22c5521cbb109871f1a2318948581901bd47e26" in readme and "BSD 2-Clause" in readme


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("entities/aacute.xml", "testing á entity"),
        ("entities/upper_Aacute.xml", "testing Á entity"),
        ("entities/nbsp.xml", "testing \xa0 entity"),
        ("entities/rlm.xml", "testing \u200f entity"),
        ("entities/hellip.xml", "testing … entity"),
        ("entities/mdash.xml", "testing — entity"),
        # Not an HTML entity either: kept as the text it is.
        ("entities/doesnotexist.xml", "testing &doesnotexist; entity"),
    ],
)
@pytest.mark.django_db
def test_html_named_entities_are_decoded_not_refused(name: str, title: str) -> None:
    """245 corpus files were refused as "not well-formed ... undefined entity"."""
    assert feeds.parse(Path(case(name)).read_bytes(), source=name).feed.title == title
    result = feeds.import_feed(case(name))
    assert (result.created, result.skipped) == (0, 0)


@pytest.mark.parametrize(
    "name", ["wellformed/rss/entity_in_doctype.xml", "wellformed/rdf/doctype_contains_entity_decl.xml"]
)
@pytest.mark.django_db
def test_entity_declarations_are_refused_and_import_nothing(name: str) -> None:
    with pytest.raises(feeds.FeedError, match="declares entities") as refused:
        feeds.import_feed(case(name))
    assert refused.value.kind == "dangerous"
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("wellformed/rss/rss_version_091_netscape.xml", lambda parsed: parsed.version == "rss091n"),
        ("illformed/always_strip_doctype.xml", lambda parsed: parsed.feed.title == "found"),
        (
            "wellformed/rss/item_description_not_a_doctype2.xml",
            lambda parsed: parsed.entries[0].description == "<!DOCTYPE",
        ),
    ],
)
@pytest.mark.django_db
def test_a_doctype_without_declarations_is_harmless_and_imports(name: str, check) -> None:
    assert check(feeds.parse(Path(case(name)).read_bytes(), source=name))
    feeds.import_feed(case(name))  # no FeedError


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("wellformed/rss/item_description.xml", ""),  # an item with only a description
        ("wellformed/atom10/entry_title_escaped_markup.xml", "Example Atom"),  # no id, no link
    ],
)
@pytest.mark.django_db
def test_an_entry_without_an_identifier_is_skipped_and_the_file_still_imports(name: str, label: str) -> None:
    """1,156 corpus files were refused whole: "an entry has neither a GUID nor a link"."""
    result = feeds.import_feed(case(name))
    assert [(s.position, s.reason, s.label) for s in result.skipped_entries] == [(1, "no_id", label)]


@pytest.mark.django_db
def test_the_corpus_json_feed_is_read_as_a_feed() -> None:
    result = feeds.import_feed(case("json/example.json"))
    assert result.created == 1 and Article.objects.get().title == "post 2"
    assert [(s.position, s.reason, s.label) for s in result.skipped_entries] == [(2, "no_title", "1")]


def corpus_entry(name: str, **fields: str):
    """The case's first entry as our parser reads it, with the fields it lacks to be imported
    (the corpus's sanitiser cases carry no id): the markup under test stays the corpus's."""
    entry = feeds.parse(Path(case(name)).read_bytes(), source=name).entries[0]
    entry["id"] = f"corpus:{name}"
    for key, value in fields.items():
        entry.setdefault(key, value)
    return entry


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("wellformed/sanitize/entry_title_script_inline.xml", "safe description"),
        ("wellformed/sanitize/entry_title_style.xml", "never trust your upstream platypus"),
        ("wellformed/sanitize/entry_title_script.xml", "safe description"),
        ("wellformed/sanitize/entry_title_iframe.xml", "safe description"),
        ("wellformed/atom10/entry_title_escaped_markup.xml", "Example Atom"),
    ],
)
@pytest.mark.django_db
def test_html_titles_are_stored_as_plain_text(name: str, title: str) -> None:
    """Readers saw `<div>`, `<a href=... style=...>` or `<!-- <script> -->` as text on the page."""
    assert feeds.import_entry(corpus_entry(name)) == "created"
    assert Article.objects.get().title == title


@pytest.mark.django_db
def test_the_crazy_title_keeps_its_words_and_loses_its_markup() -> None:
    feeds.import_entry(corpus_entry("wellformed/sanitize/entry_title_crazy.xml"))
    title = Article.objects.get().title
    assert title.startswith("Crazy HTML -- Can Your Regex Parse This?")
    assert not MARKUP.search(title) and title.endswith("I will execute here, too, if you mouse over me")


@pytest.mark.parametrize(
    "name",
    [
        "wellformed/sanitize/entry_title_onclick.xml",
        "wellformed/sanitize/entry_title_onerror.xml",
        "wellformed/sanitize/entry_title_onmouseover.xml",
    ],
)
@pytest.mark.django_db
def test_a_title_that_is_only_markup_is_no_title(name: str) -> None:
    with pytest.raises(feeds.EntrySkipped) as skipped:
        feeds.import_entry(corpus_entry(name))
    assert skipped.value.reason == "no_title"
    assert not Article.objects.exists()


CONTENT_CASES = [name for name in CASES if "/entry_content_" in name]
INERT = re.compile(
    r"<(script|iframe|object|embed|applet|style|meta|link|frame|blink)\b|\son\w+\s*=|javascript:|\sstyle\s*=", re.I
)


@pytest.mark.parametrize("name", CONTENT_CASES)
@pytest.mark.django_db
def test_corpus_bodies_are_inert_and_a_second_import_changes_nothing(name: str) -> None:
    entry = corpus_entry(name, title=f"حالة {name}")
    assert feeds.import_entry(entry) == "created"
    article = Article.objects.get()
    assert not INERT.search(article.body), article.body
    before = snapshot()
    assert feeds.import_entry(corpus_entry(name, title=f"حالة {name}")) == "unchanged"
    assert snapshot() == before


@pytest.mark.django_db
def test_every_fixture_case_imports_idempotently() -> None:
    """The whole fixture corpus imported twice: the second import creates, updates and changes
    nothing (refused cases are refused both times)."""
    refused = 0
    for name in CASES:
        try:
            feeds.import_feed(case(name))
        except feeds.FeedError:
            refused += 1
    assert refused == 2  # the two entity declarations
    before = snapshot()
    for name in CASES:
        try:
            second = feeds.import_feed(case(name))
        except feeds.FeedError:
            continue
        assert (second.created, second.updated) == (0, 0), name
    assert snapshot() == before
