"""One bad entry no longer blocks a feed (issue 23): the good entries are upserted, each bad one
is named with its reason in the command's output and in the admin's record of the feed's last
import (FeedImport), which the periodic FEED_URLS import writes too and editors may read."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from articles.content.feeds import import_feed
from articles.content.models import Article, FeedImport
from articles.tasks import import_configured_feeds
from tests.test_admin_language import latin_words

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>CMS</title><link>https://cms.example.com/</link><description>d</description>
<item><title>خبر سليم</title><guid isPermaLink="false">good-1</guid><description>نص</description></item>
<item><guid isPermaLink="false">no-title-2</guid><description>بلا عنوان</description></item>
<item><title>خبر بلا معرّف</title><description>بلا رابط ولا معرّف</description></item>
<item><title>خبر رابطه خبيث</title><link>javascript:alert(1)</link></item>
<item><title>خبر سليم آخر</title><link>https://cms.example.com/news/5</link></item>
</channel></rss>"""


@pytest.fixture
def messy_feed(tmp_path: Path) -> Path:
    path = tmp_path / "messy.rss"
    path.write_text(RSS, encoding="utf-8")
    return path


@pytest.fixture
def editor(db) -> Client:
    user = User.objects.create_user("محرر", password="pw-editor-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_bad_entries_are_skipped_and_named_and_the_good_ones_import(messy_feed: Path, time_machine) -> None:
    """Before: "an entry has neither a GUID nor a link, or no title. Nothing was imported"."""
    time_machine.move_to(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), tick=False)
    out, err = StringIO(), StringIO()
    call_command("import_feed", str(messy_feed), stdout=out, stderr=err)
    assert out.getvalue().strip() == "created 2, updated 0, unchanged 0, skipped 3"
    assert set(Article.objects.values_list("guid", flat=True)) == {"good-1", "https://cms.example.com/news/5"}
    assert err.getvalue().splitlines() == [
        "skipped entry 2 'no-title-2': the entry has no title (or its title is markup without text)",
        "skipped entry 3 'خبر بلا معرّف': the entry has neither an identifier nor a link",
        "skipped entry 4 'خبر رابطه خبيث': the entry's link is not a safe web link, and it has no other identifier"
        " (javascript:alert(1))",
    ]
    record = FeedImport.objects.get(source=str(messy_feed))
    assert (record.created, record.updated, record.unchanged, record.skipped, record.refusal) == (2, 0, 0, 3, "")
    assert record.imported_at == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert [(row["position"], row["reason"]) for row in record.skipped_entries] == [
        (2, "no_title"),
        (3, "no_id"),
        (4, "unsafe_link"),
    ]
    # A second import replaces the record; nothing else changes.
    call_command("import_feed", str(messy_feed), stdout=StringIO(), stderr=StringIO())
    record = FeedImport.objects.get(source=str(messy_feed))
    assert (record.created, record.unchanged, record.skipped) == (0, 2, 3)
    assert FeedImport.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_feed_is_recorded_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "broken.rss"
    path.write_text(RSS.replace("</channel></rss>", ""), encoding="utf-8")
    with pytest.raises(CommandError, match="not a well-formed .* Nothing was imported"):
        call_command("import_feed", str(path), stdout=StringIO(), stderr=StringIO())
    assert not Article.objects.exists()
    record = FeedImport.objects.get(source=str(path))
    assert record.refusal == "malformed" and "no element found" in record.error


@pytest.mark.django_db
def test_the_periodic_import_leaves_a_record_per_feed(messy_feed: Path, tmp_path: Path, settings) -> None:
    missing = str(tmp_path / "missing.rss")
    settings.FEED_URLS = [str(messy_feed), missing]
    outcome = import_configured_feeds.delay().get()
    assert outcome[str(messy_feed)] == "created=2 updated=0 unchanged=0 skipped=3"
    records = {row.source: row for row in FeedImport.objects.all()}
    assert records[str(messy_feed)].skipped == 3
    assert records[missing].refusal == "unreachable"


@pytest.mark.django_db
def test_editors_read_the_records_in_arabic(editor: Client, messy_feed: Path, tmp_path: Path) -> None:
    import_feed(str(messy_feed))
    bomb = tmp_path / "bomb.rss"
    bomb.write_text(RSS.replace("<rss", '<!DOCTYPE rss [<!ENTITY a "x">]><rss'), encoding="utf-8")
    with pytest.raises(Exception, match="declares entities"):
        import_feed(str(bomb))
    listing = editor.get(reverse("admin:articles_feedimport_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "استُوردت" in page and "رُفضت لأنها تعرّف كيانات XML" in page
    assert "٣" in page  # the skipped count, in the configured digits
    assert latin_words(page) == set()
    detail = editor.get(
        reverse("admin:articles_feedimport_change", args=[FeedImport.objects.get(source=str(messy_feed)).pk])
    )
    assert detail.status_code == 200
    text = detail.content.decode()
    for reason in ("ليس للمدخل عنوان", "ليس للمدخل معرّف ولا رابط", "رابط المدخل ليس رابط ويب آمنًا"):
        assert reason in text
    assert "المدخل ٤" in text and "خبر رابطه خبيث" in text
    assert latin_words(text) == set()
    # Read-only, for editors and administrators alike: the import writes it, nobody edits it.
    assert editor.get(reverse("admin:articles_feedimport_add")).status_code == 403
    assert editor.post(detail.request["PATH_INFO"], {"source": "x"}).status_code == 403
    assert FeedImport.objects.filter(source="x").count() == 0


@pytest.mark.django_db
def test_the_editors_group_may_view_the_records_only() -> None:
    perms = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    assert "view_feedimport" in perms
    assert not {"add_feedimport", "change_feedimport", "delete_feedimport"} & perms
