"""Subscriber admin: permissions, search, counts, CSV import/export round trip, erase, JSON export."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.content.models import Section
from newsletter import privacy
from newsletter.admin.subscribers import COUNT_CAP, EstimatedCountPaginator
from newsletter.subscribers import csv_io
from newsletter.subscribers.models import Subscriber, Suppression
from tests.requirements import require_postgres

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/newsletter/subscriber/"
IMPORT = "/admin/newsletter/subscriber/import/"


@pytest.fixture(autouse=True)
def eml_outbox(settings, outbox_dir):
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"


@pytest.fixture
def admin_client_(client):
    user = User.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_editors_group_gets_403(client):
    editors, _ = Group.objects.get_or_create(name="Editors")
    editor = User.objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    editor.groups.add(editors)
    subscriber = Subscriber.objects.create(email="secret@example.com")
    client.force_login(editor)
    for url in (
        CHANGELIST,
        f"{CHANGELIST}{subscriber.pk}/change/",
        IMPORT,
        f"{CHANGELIST}export/",
        f"{CHANGELIST}{subscriber.pk}/export-json/",
        "/admin/newsletter/suppression/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"secret@example.com" not in response.content


def test_changelist_search_filters_and_counts(admin_client_, django_assert_max_num_queries):
    politics = Section.objects.create(name="سياسة", slug="politics")
    for i in range(30):
        Subscriber.objects.create(email=f"user{i}@example.com", status="active" if i % 3 else "unsubscribed")
    tagged = Subscriber.objects.create(email="Topic.Reader@example.com", status="active")
    tagged.topics.add(politics)
    with django_assert_max_num_queries(12):
        page = admin_client_.get(CHANGELIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert "user29@example.com" in body
    counts = shown_status_counts(body)
    assert counts[str(Subscriber.Status.ACTIVE.label)] == 21  # 20 of the 30, plus the tagged reader
    assert counts[str(Subscriber.Status.UNSUBSCRIBED.label)] == 10
    assert counts[str(Subscriber.Status.PENDING.label)] == 0
    exact = admin_client_.get(CHANGELIST, {"q": "topic.reader@EXAMPLE.com"}).content.decode()
    assert "Topic.Reader@example.com" in exact and "user1@example.com" not in exact
    prefix = admin_client_.get(CHANGELIST, {"q": "user2"}).content.decode()
    assert "user2@example.com" in prefix and "user20@example.com" in prefix and "user3@example.com" not in prefix
    by_topic = admin_client_.get(CHANGELIST, {"topic": str(politics.pk)}).content.decode()
    assert "Topic.Reader@example.com" in by_topic and "user1@example.com" not in by_topic
    by_status = admin_client_.get(CHANGELIST, {"status__exact": "unsubscribed"}).content.decode()
    assert "user0@example.com" in by_status and "user1@example.com" not in by_status


def shown_status_counts(body: str) -> dict[str, int]:
    """The per-status counts paragraph of the changelist, as {status label: number}."""
    [paragraph] = re.findall(r'<p class="status-counts">(.*?)</p>', body, re.S)
    return {label: int(n) for label, n in re.findall(r"<strong>(.*?):</strong>\s*(\d+)", paragraph)}


def test_status_counts_are_one_query_cached_and_refreshed_after_an_erase(admin_client_):
    for i in range(3):
        Subscriber.objects.create(email=f"c{i}@example.com", status="active")
    with CaptureQueriesContext(connection) as first:
        admin_client_.get(CHANGELIST)
    grouped = [q["sql"] for q in first.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    # A new row does not show until the cache entry expires (STATUS_COUNTS_TTL)...
    Subscriber.objects.create(email="late@example.com", status="active")
    with CaptureQueriesContext(connection) as second:
        body = admin_client_.get(CHANGELIST).content.decode()
    assert not [q for q in second.captured_queries if "GROUP BY" in q["sql"]]
    assert shown_status_counts(body)[str(Subscriber.Status.ACTIVE.label)] == 3
    # ...while an erase from the admin drops it at once.
    victims = list(
        Subscriber.objects.filter(email__in=["c0@example.com", "c1@example.com"]).values_list("pk", flat=True)
    )
    admin_client_.post(CHANGELIST, {"action": "erase_selected", "_selected_action": victims, "confirm_erase": "yes"})
    body = admin_client_.get(CHANGELIST).content.decode()
    assert shown_status_counts(body)[str(Subscriber.Status.ACTIVE.label)] == 2  # c2 and late (the cache said 3)


def test_paginator_counts_exactly_up_to_the_cap_and_estimates_beyond(django_assert_num_queries):
    require_postgres("the estimate is PostgreSQL's EXPLAIN; SQLite always counts exactly")
    Subscriber.objects.bulk_create([Subscriber(email=f"p{i}@example.com") for i in range(COUNT_CAP - 5)])
    with django_assert_num_queries(1):  # the capped count only
        assert EstimatedCountPaginator(Subscriber.objects.order_by("-pk"), 50).count == COUNT_CAP - 5
    Subscriber.objects.bulk_create([Subscriber(email=f"q{i}@example.com") for i in range(600)])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Subscriber._meta.db_table}")
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(Subscriber.objects.order_by("-pk"), 50).count
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)
    assert not any("COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in queries.captured_queries)
    # The planner's figure after ANALYZE, not the capped exact count (COUNT_CAP + 1).
    assert COUNT_CAP + 500 <= count <= COUNT_CAP + 700


def rows_of(content: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.lstrip("\ufeff"))))


def test_csv_export_import_round_trip(admin_client_):
    sport = Section.objects.create(name="رياضة", slug="sport")
    economy = Section.objects.create(name="اقتصاد", slug="economy")
    first = Subscriber.objects.create(
        email="one@example.com",
        name='=HYPERLINK("x")',
        frequency="weekly",
        language="en",
        status="active",
        confirmed_at=timezone.now(),
    )
    first.topics.set([sport, economy])
    Subscriber.objects.create(email="two@example.com", name="سارة", status="active")
    response = admin_client_.get(f"{CHANGELIST}export/")
    assert response.status_code == 200 and response.streaming
    exported = b"".join(response.streaming_content).decode()
    rows = rows_of(exported)
    assert {row["email"] for row in rows} == {"one@example.com", "two@example.com"}
    one = next(row for row in rows if row["email"] == "one@example.com")
    assert one["name"].startswith("'=")  # formula neutralised for spreadsheets
    assert one["topics"] == "economy|sport"

    before = {
        s.email: (s.name, s.frequency, s.language, sorted(s.topics.values_list("slug", flat=True)))
        for s in Subscriber.objects.all()
    }
    Subscriber.objects.all().delete()
    upload = admin_client_.post(
        IMPORT, {"file": SimpleUploadedFile("s.csv", exported.encode()), "send_confirmation": ""}
    )
    assert upload.status_code == 200
    assert not Subscriber.objects.exists()  # preview saves nothing
    key = upload.context["import_key"]
    done = admin_client_.post(IMPORT, {"import_key": key})
    assert done.status_code == 302
    after = {
        s.email: (s.name, s.frequency, s.language, sorted(s.topics.values_list("slug", flat=True)))
        for s in Subscriber.objects.all()
    }
    assert after == before
    assert set(Subscriber.objects.values_list("source", flat=True)) == {"import"}


def test_import_shows_row_errors_and_saves_nothing_unless_asked(
    admin_client_, outbox, django_capture_on_commit_callbacks
):
    Subscriber.objects.create(email="left@example.com", status="unsubscribed")
    Subscriber.objects.create(email="bounced@example.com", status="bounced")
    privacy.erase(subscriber=Subscriber.objects.create(email="erased@example.com"))
    content = (
        b"email,name,frequency\n"
        b"new1@example.com,A,daily\n"
        b"not-an-email,B,daily\n"
        b"new2@example.com,C,monthly\n"
        b"NEW1@example.com,dup,daily\n"
        b"left@example.com,,daily\n"
        b"bounced@example.com,,daily\n"
        b"erased@example.com,,weekly\n"
        b"new3@example.com,,weekly\n"
    )
    preview = admin_client_.post(IMPORT, {"file": SimpleUploadedFile("s.csv", content), "send_confirmation": "on"})
    body = preview.content.decode()
    assert preview.status_code == 200 and 'id="import-errors"' in body
    assert preview.context["counts"] == {
        "create": 2,
        "error": 2,
        "duplicate_in_file": 1,
        "existing": 2,
        "suppressed": 1,
    }
    key = preview.context["import_key"]
    # Confirmed without "valid rows only": refused, and the preview stays on the page with the
    # error (it used to redirect to an empty upload form).
    refused = admin_client_.post(IMPORT, {"import_key": key, "send_confirmation": "1"})
    assert refused.status_code == 200 and refused.context["import_key"] == key
    page = refused.content.decode()
    assert 'id="confirm-error"' in page and "لم يُحفظ شيء" in page
    assert 'id="import-errors"' in page and 'name="only_valid_rows"' in page
    assert refused.context["counts"] == preview.context["counts"]
    assert set(Subscriber.objects.values_list("email", flat=True)) == {"left@example.com", "bounced@example.com"}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(IMPORT, {"import_key": key, "send_confirmation": "1", "only_valid_rows": "1"})
    assert set(Subscriber.objects.filter(source="import").values_list("email", flat=True)) == {
        "new1@example.com",
        "new3@example.com",
    }
    assert set(Subscriber.objects.filter(source="import").values_list("status", flat=True)) == {"pending"}
    assert Subscriber.objects.get(email="left@example.com").status == "unsubscribed"
    assert Subscriber.objects.get(email="bounced@example.com").status == "bounced"
    assert not Subscriber.objects.filter(email="erased@example.com").exists()
    assert sorted(message["To"] for message in outbox()) == ["new1@example.com", "new3@example.com"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "الملف ليس بترميز UTF-8."),
        (b"name,frequency\nA,daily\n", "لا يوجد عمود email في سطر العناوين."),
    ],
)
def test_bad_files_are_clear_errors(admin_client_, content, message):
    response = admin_client_.post(IMPORT, {"file": SimpleUploadedFile("s.csv", content)})
    assert response.status_code == 200
    assert response.context["preview"].file_errors == [message]
    assert message in response.content.decode() and 'id="count-create"' not in response.content.decode()
    # Confirming it anyway (a stale tab, a forged form) saves nothing and says why.
    done = admin_client_.post(IMPORT, {"import_key": response.context["import_key"], "only_valid_rows": "1"})
    assert done.status_code == 302 and done["Location"] == IMPORT
    assert [str(m) for m in get_messages(done.wsgi_request)] == [message]
    assert not Subscriber.objects.exists()


def test_empty_upload_is_a_form_error(admin_client_):
    response = admin_client_.post(IMPORT, {"file": SimpleUploadedFile("s.csv", b"")})
    assert response.status_code == 200 and "preview" not in response.context
    assert response.context["form"].errors["file"]
    assert not Subscriber.objects.exists()


def test_import_row_limit_is_a_clear_error_and_saves_nothing(admin_client_, settings):
    settings.SUBSCRIBER_IMPORT_MAX_ROWS = 3
    three = b"email\na@example.com\nb@example.com\nc@example.com\n"
    assert admin_client_.post(IMPORT, {"file": SimpleUploadedFile("s.csv", three)}).context["counts"]["create"] == 3
    four = three + b"d@example.com\n"
    response = admin_client_.post(IMPORT, {"file": SimpleUploadedFile("s.csv", four)})
    assert response.context["preview"].file_errors == ["الملف يتجاوز الحد الأقصى لعدد الأسطر (٣)."]
    assert csv_io.parse_import(four).file_errors and not csv_io.parse_import(three).file_errors
    # The upload form also refuses a file far larger than that many rows could be (400 bytes a row).
    huge = b"email\n" + b"x" * 1200 + b"@example.com\n"
    refused = admin_client_.post(IMPORT, {"file": SimpleUploadedFile("s.csv", huge)})
    assert refused.context["form"].errors["file"] == ["الملف أكبر من المسموح."]
    assert not Subscriber.objects.exists()


def test_erase_action_and_reimport_blocked(admin_client_):
    victim = Subscriber.objects.create(email="Forget.Me@example.com", name="Forget Me", status="active")
    keep = Subscriber.objects.create(email="keep@example.com", status="active")
    confirm_page = admin_client_.post(CHANGELIST, {"action": "erase_selected", "_selected_action": [victim.pk]})
    assert confirm_page.status_code == 200
    assert Subscriber.objects.filter(pk=victim.pk).exists()  # nothing before confirmation
    admin_client_.post(
        CHANGELIST, {"action": "erase_selected", "_selected_action": [victim.pk], "confirm_erase": "yes"}
    )
    assert not Subscriber.objects.filter(pk=victim.pk).exists()
    assert Subscriber.objects.filter(pk=keep.pk).exists()
    # No personal data left anywhere in the database tables we own.
    assert not Subscriber.objects.filter(email__icontains="forget").exists()
    assert Suppression.objects.filter(reason="erased").count() == 1
    assert "forget" not in Suppression.objects.get().email_hash
    preview = csv_io.parse_import(b"email\nforget.me@EXAMPLE.com\n")
    assert [row.action for row in preview.rows] == ["suppressed"]
    result = csv_io.apply_import(b"email\nforget.me@example.com\n", send_confirmation=False, only_valid_rows=False)
    assert result.created == 0 and not Subscriber.objects.filter(email__iexact="forget.me@example.com").exists()


def test_export_one_subscriber_json(admin_client_):
    subscriber = Subscriber.objects.create(email="mine@example.com", name="ليلى", status="active")
    response = admin_client_.get(f"{CHANGELIST}{subscriber.pk}/export-json/")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["email"] == "mine@example.com" and data["name"] == "ليلى"
    change = admin_client_.get(f"{CHANGELIST}{subscriber.pk}/change/")
    assert change.status_code == 200 and b"export-json" in change.content


def test_suppression_admin_read_only_and_search_by_address(admin_client_):
    privacy.erase(subscriber=Subscriber.objects.create(email="gone@example.com"))
    page = admin_client_.get("/admin/newsletter/suppression/", {"q": "Gone@Example.com"})
    entry = Suppression.objects.get()
    assert page.status_code == 200 and entry.email_hash[:16] in page.content.decode()
    other = admin_client_.get("/admin/newsletter/suppression/", {"q": "someone@example.com"})
    assert entry.email_hash[:16] not in other.content.decode()
    assert admin_client_.get("/admin/newsletter/suppression/add/").status_code == 403


def test_export_streams_in_chunks(django_assert_num_queries):
    Subscriber.objects.bulk_create([Subscriber(email=f"s{i}@example.com") for i in range(25)])
    lines = csv_io.export_rows(chunk_size=10)
    # sections (1) + 3 full chunks x (rows + topics + consent history) + the final empty chunk (1)
    with django_assert_num_queries(1 + 3 * 3 + 1):
        rows = list(lines)
    assert len(rows) == 26
