"""Personal editions on the edition page (issue 25), through the Django test client: an editor
previews the edition as one reader (by address or id) and sees their email beside its stories and
why each is there, never the reader's address unless they may view subscribers; bad input is an
Arabic error beside the field, never a 500; the edition page shows the distinct-lists count
with the time it was computed, counted on request."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from newsletter.editions.models import Digest
from newsletter.email.links import targets_key
from sitewide.redis_client import get_redis
from tests.newsletter.personal.newsroom import personal_newsroom, stories

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsroom(settings) -> dict:
    return personal_newsroom(settings)


def staff(username: str, *permissions: str, editor: bool = True) -> Client:
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    if editor:
        user.groups.add(Group.objects.get(name="Editors"))
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="newsletter", codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor() -> Client:
    return staff("editor-reader")


def reader_url(digest: Digest) -> str:
    return reverse("admin:newsletter_digest_reader", args=[digest.pk])


def frame(page: str) -> str:
    found = re.search(r'srcdoc="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def story_table(page: str) -> list[list[str]]:
    table = page.split('id="reader-stories"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", table, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.split(r"</td><td>", row)] for row in rows]


def test_an_editor_previews_a_reader_by_address_without_seeing_it(editor: Client, newsroom: dict) -> None:
    digest, personal = newsroom["digest"], newsroom["personal"]
    form = editor.get(reader_url(digest)).content.decode()
    assert '<label for="id_reader" class="required">' in form and 'id="id_reader"' in form
    response = editor.post(reader_url(digest), {"reader": " Personal@Example.com "})
    # The typed address never goes into a URL: the page comes back at the reader's id.
    assert response.status_code == 302 and response["Location"].endswith(f"?reader={personal.pk}")
    page = editor.get(response["Location"]).content.decode()
    assert "personal@example.com" not in page.lower()
    assert f"مشترك {personal.pk}" in page
    rows = story_table(page)
    news, games = newsroom["news"], newsroom["games"]
    assert rows[0][1:] == [news[0].title, "مثبّتة: مكانها واحد للجميع"]
    assert rows[1][1:] == [games[0].title, "تتبع نقراته على «رياضة»"]
    assert {row[2] for row in rows[1:]} <= {"تتبع نقراته على «رياضة»", "يقرؤها كثيرون"}
    read = page.split('id="reader-already-read"', 1)[1].split("</ul>", 1)[0]
    assert news[1].title in read
    assert "قائمته الخاصة" in page
    # The same email the send makes, in the segment preview's frames, with the editor's links.
    assert 'width="600"' in page and 'width="375"' in page
    email = frame(page)
    listed = [int(pk) for pk in re.findall(r"/c/e\d+a(\d+)p\d+k", email)]
    assert list(dict.fromkeys(listed)) == stories(page.split("<pre", 1)[1])
    assert listed[0] == news[0].pk and "[[" not in email
    # Its story links redirect: their targets are stored, as the segment preview stores them.
    assert get_redis().hget(targets_key(digest.pk), str(games[0].pk))


def test_a_user_who_may_view_subscribers_sees_the_address(newsroom: dict) -> None:
    digest, personal = newsroom["digest"], newsroom["personal"]
    client = staff("editor-subscribers", "view_subscriber")
    page = client.get(reader_url(digest) + f"?reader={personal.pk}").content.decode()
    assert '<span dir="ltr">personal@example.com</span>' in page


def test_hold_out_and_personal_order_off_are_named_on_the_page(editor: Client, newsroom: dict) -> None:
    digest = newsroom["digest"]
    holdout = editor.get(reader_url(digest) + f"?reader={newsroom['holdout'].pk}").content.decode()
    assert "في المجموعة الضابطة هذا الشهر" in holdout
    off = editor.get(reader_url(digest) + f"?reader={newsroom['off'].pk}").content.decode()
    assert "أوقف القارئ الترتيب الشخصي" in off
    for page in (holdout, off):
        assert [row[2] for row in story_table(page)] == ["مثبّتة: مكانها واحد للجميع"] + ["يقرؤها كثيرون"] * 3


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("nobody@example.com", "لا مشترك بهذا العنوان."),
        ("999999999", "الرقم 999999999 لا يطابق أي مشترك."),
        ("١٢٣٤٥٦٧٨٩", "الرقم 123456789 لا يطابق أي مشترك."),  # Arabic-Indic digits are read as an id
        ("not an address", "اكتب عنوان بريد صحيحًا أو رقم مشترك."),
        ("9" * 40, "اكتب عنوان بريد صحيحًا أو رقم مشترك."),
        ("x\r\nBcc: a@b.c", "اكتب عنوان بريد صحيحًا أو رقم مشترك."),
        ("", "اكتب عنوان بريد المشترك أو رقمه."),
        ("a" * 400 + "@example.com", "320"),  # Django's own length message names the limit
    ],
)
def test_bad_input_is_an_error_beside_the_field(editor: Client, newsroom: dict, typed: str, error: str) -> None:
    for response in (
        editor.post(reader_url(newsroom["digest"]), {"reader": typed}),
        editor.get(reader_url(newsroom["digest"]), {"reader": typed}),
    ):
        assert response.status_code == 200
        page = response.content.decode()
        errors = page.split('<ul class="errorlist" id="id_reader_error">', 1)[1].split("</ul>", 1)[0]
        assert error in errors
        assert 'aria-invalid="true"' in page and 'aria-describedby="id_reader_error id_reader_helptext"' in page
        assert 'id="reader-stories"' not in page


def test_only_users_who_may_view_editions_may_preview(newsroom: dict) -> None:
    outsider = staff("no-editions", editor=False)
    digest = newsroom["digest"]
    assert outsider.get(reader_url(digest) + f"?reader={newsroom['personal'].pk}").status_code == 403
    assert outsider.post(reverse("admin:newsletter_digest_count_lists", args=[digest.pk])).status_code == 403


def test_the_edition_page_counts_distinct_lists_on_request(editor: Client, newsroom: dict) -> None:
    digest = newsroom["digest"]
    change = reverse("admin:newsletter_digest_change", args=[digest.pk])
    page = editor.get(change).content.decode()
    box = page.split('id="digest-lists"', 1)[1].split("</div>", 1)[0]
    assert "لم يُحسب بعد" in box and 'form="digest-lists-form"' in box
    assert f'href="{reader_url(digest)}"' in page  # the preview as a reader, from the page
    assert editor.get(reverse("admin:newsletter_digest_count_lists", args=[digest.pk])).status_code == 405
    response = editor.post(reverse("admin:newsletter_digest_count_lists", args=[digest.pk]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'id="digest-lists-count">5<', page)
    assert re.search(r'id="digest-lists-time">[^<]*\d\d:\d\d<', page)
    assert "أعد الحساب" in page
