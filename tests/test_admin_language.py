"""Every label an editor or an administrator reads in the Arabic admin is Arabic (issue 13): walk
the admin pages each can open (index, every changelist with its filters, add and change forms
where allowed, the editions' custom views, the raw schedule screens for the administrator) and
fail on any Latin-script word in the visible text or in titles, placeholders and button labels.

Allowed: proper nouns of products and standards (ALLOWED), email addresses, URLs, time-zone
names, text inside dir="ltr" and <bdi> runs (addresses, codes), and the data rows themselves,
named exactly: the periodic tasks' names and task paths (data_rows). Django-celery-beat's labels
are Arabic through locale/ar, Django's newest auth texts too, and the permission rows through
newsletter.admin.accounts: there is no exempted page."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_celery_beat.models import PeriodicTask

from newsletter.orchestration import runs
from tests.newsletter.digest_helpers import ranked_articles, subscriber
from tests.visible_text import VisibleText

pytestmark = pytest.mark.django_db

ALLOWED = {
    "Celery", "Mailgun", "RabbitMQ", "AMQP", "LDAP", "RSS", "Atom", "HTML", "CSV", "URL", "UTC", "ESP", "Asia", "Baghdad", "English",
    "px", "Redis", "PostgreSQL", "ID", "UUID", "SQL", "JSON", "MIME", "XML",
    "JPEG", "PNG", "GIF", "WebP",  # image formats named in the image field's help and errors
    "Control", "Command",  # key names in Django's Arabic help text ("اضغط Control أو Command")
    "politics",  # the test section's slug (data, not a label)
    "Editors",  # the group's name (data a migration created; code looks it up by it)
}  # fmt: skip
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
IGNORED = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"  # email addresses
    r"|https?://\S+|/[\w/.-]+"  # URLs and paths
    r"|\b[A-Z][a-z]+/[A-Za-z_]+\b"  # time zones
    r"|\b[0-9a-f]*[0-9][0-9a-f-]*\b"  # hex identifiers (UUIDs, hashes)
)


def latin_words(html: str, data: tuple[str, ...] = ()) -> set[str]:
    """Latin-script words outside ALLOWED; `data` are whole strings taken out first (rows)."""
    parser = VisibleText()
    parser.feed(html)
    found = set()
    for text in parser.texts:
        for value in data:
            text = text.replace(value, " ")
        for word in LATIN_WORD.findall(IGNORED.sub(" ", text)):
            if word not in ALLOWED:
                found.add(word)
    return found


def admin_pages(client: Client, user) -> list[str]:
    """Index, then for each model the user may see: changelist, add form, first object's form."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    urls = ["/admin/", "/admin/password_change/"]
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"{prefix}_add"))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{prefix}_change", args=[first.pk]))
            urls.append(reverse(f"{prefix}_history", args=[first.pk]))
            if model_admin.has_delete_permission(request, first):
                urls.append(reverse(f"{prefix}_delete", args=[first.pk]))
        try:
            urls.append(reverse("admin:app_list", args=[model._meta.app_label]))
        except NoReverseMatch:
            pass
    return list(dict.fromkeys(urls))


@pytest.fixture
def content(settings) -> dict[str, int]:
    ranked_articles(6)
    subscriber("reader@example.com")
    daily = runs.next_draft("daily")
    runs.next_draft("weekly")
    assert PeriodicTask.objects.exists()
    return {"digest": daily.pk}


def data_rows() -> tuple[str, ...]:
    """The periodic tasks' names and dotted task paths: rows the migrations wrote (code looks
    the tasks up by path, administrators may add their own), shown as data, longest first."""
    values = {value for row in PeriodicTask.objects.values_list("name", "task") for value in row if value}
    return tuple(sorted(values, key=len, reverse=True))


def walk(client: Client, user, extra: list[str]) -> dict[str, set[str]]:
    """Latin words per page."""
    problems: dict[str, set[str]] = {}
    data = data_rows()
    for url in admin_pages(client, user) + extra:
        response = client.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        words = latin_words(response.content.decode(), data)
        if words:
            problems[url] = words
    return problems


def custom_views(digest_id: int) -> list[str]:
    return [
        reverse("admin:newsletter_digest_preview", args=[digest_id]),
        reverse("admin:newsletter_digest_reader", args=[digest_id]),
        reverse("admin:newsletter_digest_send", args=[digest_id]),
        reverse("admin:newsletter_digest_schedule"),
        reverse("admin:newsletter_digest_report", args=[digest_id]),
        reverse("admin:newsletter_digest_dashboard"),
    ]


def test_editor_pages_are_arabic(content) -> None:
    user = get_user_model().objects.create_user("محرر", "editor@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    assert walk(client, user, custom_views(content["digest"])) == {}


def test_administrator_pages_are_arabic(content) -> None:
    user = get_user_model().objects.create_superuser("مدير", "admin@example.com", "pw")
    client = Client()
    client.force_login(user)
    extra = [
        *custom_views(content["digest"]),
        reverse("admin:newsletter_subscriber_changelist") + "?status__exact=active",
        reverse("admin:newsletter_delivery_changelist") + "?status__exact=sent",
    ]
    assert walk(client, user, extra) == {}


def test_the_checker_finds_english_labels() -> None:
    assert latin_words("<h1>Sending started at</h1><p dir='ltr'>editor@example.com</p>") == {"Sending", "started", "at"}
    assert latin_words('<p>بريد <span dir="ltr">Some Name</span> editor@example.com https://x.org/a</p>') == set()
    # Data rows are taken out as whole strings only: the same words elsewhere still count.
    rows = ("Daily digest", "newsletter.tasks.run_scheduled_digest")
    assert latin_words("<p>Daily digest: كل يوم <b>newsletter.tasks.run_scheduled_digest</b></p>", rows) == set()
    assert latin_words("<p>Daily digest of tasks</p>", rows) == {"of", "tasks"}
    assert latin_words("<p>الخوارزمية: <bdi>pbkdf2_sha256</bdi></p>") == set()
