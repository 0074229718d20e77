"""Issue 22: an editor finds the edition report and the dashboard where they look (the admin
index, the editions list, the edition page) and is never shown a link that answers 403 (the
edition page linked the delivery list, personal data editors may not open). What an editor can
still reach by typing an address answers with a 403 page in the admin's language, inside the
admin, instead of Django's bare English one."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from newsletter.delivery import dispatch
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.analytics.report_pages import editor_client, roll_up
from tests.test_admin_language import latin_words

pytestmark = pytest.mark.django_db
HREF = re.compile(r'href="([^"#]+)"')


@pytest.fixture
def sent_edition() -> Digest:
    digest = make_digest(stories=4)
    make_subscribers(2)
    dispatch.send_all_sync(digest_id=digest.id)
    roll_up()
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT
    return digest


def admin_links(html: str) -> list[str]:
    """The admin pages a page links to (logout and the language switch are forms, not links)."""
    found = []
    for href in HREF.findall(html):
        url = unescape(href)
        if urlsplit(url).path.startswith("/admin/") and "/logout/" not in url:
            found.append(url)
    return found


def test_an_editor_finds_the_report_and_the_dashboard_from_index_list_and_edition_page(sent_edition) -> None:
    editor = editor_client()
    report = reverse("admin:newsletter_digest_report", args=[sent_edition.id])
    dashboard = reverse("admin:newsletter_digest_dashboard")
    sent_list = reverse("admin:newsletter_digest_changelist") + "?status__exact=sent"
    index = admin_links(editor.get(reverse("admin:index")).content.decode())
    assert dashboard in index and sent_list in index
    listed = admin_links(editor.get(sent_list).content.decode())
    assert dashboard in listed and report in listed
    edition_page = editor.get(reverse("admin:newsletter_digest_change", args=[sent_edition.id])).content.decode()
    assert report in admin_links(edition_page) and dashboard in admin_links(edition_page)
    assert dashboard in admin_links(editor.get(report).content.decode())


def test_no_link_an_editor_is_shown_answers_403(sent_edition) -> None:
    """Every admin link on the pages of an editor's reports flow opens for them."""
    editor = editor_client()
    start = [
        reverse("admin:index"),
        reverse("admin:newsletter_digest_changelist"),
        reverse("admin:newsletter_digest_change", args=[sent_edition.id]),
        reverse("admin:newsletter_digest_report", args=[sent_edition.id]),
        reverse("admin:newsletter_digest_dashboard"),
    ]
    seen: dict[str, int] = {}
    for page in start:
        for url in [page, *admin_links(editor.get(page).content.decode())]:
            if url not in seen:
                seen[url] = editor.get(url).status_code
    refused = {url: status for url, status in seen.items() if status >= 400}
    assert refused == {}
    deliveries = reverse("admin:newsletter_delivery_changelist")
    assert not any(url.startswith(deliveries) for url in seen)


def test_an_administrator_still_gets_the_delivery_list_link(sent_edition) -> None:
    admin = get_user_model().objects.create_superuser("root-links", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:newsletter_digest_change", args=[sent_edition.id])).content.decode()
    link = reverse("admin:newsletter_delivery_changelist") + f"?digest__id__exact={sent_edition.id}"
    assert link in admin_links(page)
    assert client.get(link).status_code == 200


def test_a_403_in_the_admin_is_in_the_admins_language_and_frame() -> None:
    editor = editor_client("محرر")  # an Arabic name: every Latin word left on the page is ours
    response = editor.get(reverse("admin:newsletter_delivery_changelist"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "لا صلاحية لك لفتح هذه الصفحة" in html
    assert reverse("admin:index") in admin_links(html)  # the admin's header and a way back
    assert "Forbidden" not in html and latin_words(html) == set()
