"""import_feed: RSS 2.0 and Atom, upsert, categories to tags, sanitising, all-or-nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from articles.content.models import Article, Tag
from articles.tasks import import_configured_feeds

FIXTURES = Path(__file__).parent / "fixtures"


def snapshot() -> list[tuple]:
    return [
        (
            a.guid,
            a.canonical_url,
            a.title,
            a.body,
            a.published_at,
            a.updated_at,
            tuple(sorted(a.tags.values_list("key", flat=True))),
        )
        for a in Article.objects.order_by("guid")
    ]


def run(source: str) -> str:
    out = StringIO()
    call_command("import_feed", source, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rss_import_creates_articles_with_tags_and_rerun_changes_nothing() -> None:
    assert run(str(FIXTURES / "feed.rss")).strip() == "created 2, updated 0, unchanged 0"
    first = Article.objects.get(guid="cms-1")
    assert first.canonical_url == "https://cms.example.com/news/1"
    assert first.status == Article.Status.PUBLISHED and first.published_at.isoformat() == "2026-11-27T07:00:00+00:00"
    assert set(first.tags.values_list("key", flat=True)) == {"اقتصاد", "الكهرباء"}
    assert "<script>" not in first.body
    second = Article.objects.get(canonical_url="https://cms.example.com/news/2")
    assert second.guid == "https://cms.example.com/news/2"
    assert set(second.tags.values_list("key", flat=True)) == {"رياضه", "المنتخب الوطني"}
    before = snapshot()
    assert run(str(FIXTURES / "feed.rss")).strip() == "created 0, updated 0, unchanged 2"
    assert snapshot() == before


@pytest.mark.django_db
def test_atom_import_and_rerun(tmp_path: Path) -> None:
    assert "created 1" in run(str(FIXTURES / "feed.atom"))
    article = Article.objects.get()
    assert article.canonical_url == "https://atom.example.com/2026/11/dialogue"
    assert article.author == "مراسلنا" and article.summary == "ملخص المؤتمر"
    assert set(article.tags.values_list("key", flat=True)) == {"سياسه", "اميركا", "الحوار الاستراتيجي"}
    assert "javascript:" not in article.body
    before = snapshot()
    assert "unchanged 1" in run(str(FIXTURES / "feed.atom"))
    assert snapshot() == before
    # An edited entry updates the same article (matched by GUID).
    changed = tmp_path / "changed.atom"
    changed.write_text((FIXTURES / "feed.atom").read_text().replace("ملخص المؤتمر", "ملخص معدل"))
    assert "updated 1" in run(str(changed))
    assert Article.objects.get().summary == "ملخص معدل"


@pytest.mark.django_db
def test_broken_or_unreachable_feed_changes_nothing() -> None:
    run(str(FIXTURES / "feed.rss"))
    before, tags = snapshot(), Tag.objects.count()
    for source in [
        str(FIXTURES / "broken.rss"),
        str(FIXTURES / "missing.rss"),
        "http://127.0.0.1:8199/feed.xml",
        str(FIXTURES / "conftest.py"),
    ]:
        with pytest.raises(CommandError, match="Nothing was imported"):
            run(source)
    assert snapshot() == before and Tag.objects.count() == tags


@pytest.mark.django_db
def test_configured_feeds_task(settings) -> None:
    settings.FEED_URLS = [str(FIXTURES / "feed.rss"), str(FIXTURES / "broken.rss")]
    outcome = import_configured_feeds.delay().get()
    assert outcome[str(FIXTURES / "feed.rss")].startswith("created=2")
    assert outcome[str(FIXTURES / "broken.rss")].startswith("error:")
    assert Article.objects.count() == 2
