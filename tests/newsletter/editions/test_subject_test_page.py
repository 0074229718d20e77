"""The subject-line test on the edition page and in the report (issue 27): the editor enters the
lines, the page refuses changes once the test started and says why, shows each variant's figures
and chooses the winner now, once for two clicks; the report shows the winner and why."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from newsletter.delivery import batch, dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest, SubjectVariant, WinnerReason
from newsletter.email.links import archive_url
from newsletter.orchestration import subject_tests
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db
FIRST, SECOND = "عاجل: الموازنة تمر في البرلمان", "الموازنة الجديدة: ما الذي يتغير في راتبك؟"


@pytest.fixture
def editor() -> Client:
    user = get_user_model().objects.create_user("editor27", "editor27@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client(HTTP_ACCEPT_LANGUAGE="ar")
    client.force_login(user)
    return client


def post_subjects(client: Client, digest: Digest, *subjects: str, **fields: object):
    data = {f"subject_{i}": s for i, s in enumerate(subjects, start=1)}
    data.update({"metric": "opens", **{k: str(v) for k, v in fields.items()}})
    return client.post(reverse("admin:newsletter_digest_subject_test", args=[digest.pk]), data)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_editor_enters_two_subjects_and_the_page_shows_them(editor: Client) -> None:
    digest = make_digest(status=Digest.Status.DRAFT)
    page = editor.get(reverse("admin:newsletter_digest_change", args=[digest.pk])).content.decode()
    assert 'id="digest-subject-test"' in page and "اختبار العناوين" in page
    response = post_subjects(editor, digest, FIRST, SECOND, share_percent=30, wait_minutes=45)
    assert response.status_code == 302 and "حُفظت عناوين الاختبار." in said(response)
    assert list(SubjectVariant.objects.filter(digest=digest).values_list("subject", flat=True)) == [FIRST, SECOND]
    digest.refresh_from_db()
    assert (digest.test_share_percent, digest.test_wait_minutes) == (30, 45)
    page = editor.get(reverse("admin:newsletter_digest_change", args=[digest.pk])).content.decode()
    assert FIRST in page and SECOND in page


@pytest.mark.parametrize(
    ("subjects", "fields", "message"),
    [
        ((FIRST, FIRST), {}, "مرتين"),
        ((FIRST, SECOND), {"share_percent": "abc"}, "نسبة جمهور الاختبار"),
        ((FIRST, SECOND), {"wait_minutes": 100000}, "مدة الانتظار"),
        ((FIRST, "{{ email }}"), {}, ""),
    ],
)
def test_bad_input_on_the_page_is_an_arabic_message_and_changes_nothing(
    editor: Client, subjects, fields, message
) -> None:
    digest = make_digest(status=Digest.Status.DRAFT)
    response = post_subjects(editor, digest, *subjects, **fields)
    assert response.status_code == 302
    errors = said(response)
    assert errors and all(e and not e.isascii() for e in errors) and any(message in e for e in errors)
    assert not SubjectVariant.objects.filter(digest=digest).exists()


def start(readers: int = 100) -> Digest:
    digest = make_digest()
    make_subscribers(readers)
    SubjectVariant.objects.bulk_create(
        [
            SubjectVariant(digest=digest, position=1, subject=FIRST),
            SubjectVariant(digest=digest, position=2, subject=SECOND),
        ]
    )
    for number in dispatch.dispatch(digest_id=digest.pk, enqueue=False).batches:
        batch.send_batch(digest_id=digest.pk, batch=number)
    digest.refresh_from_db()
    return digest


def test_changing_the_subjects_after_the_test_started_is_refused_and_says_why(editor: Client) -> None:
    digest = start()
    response = post_subjects(editor, digest, "عنوان جديد", "وآخر")
    assert any("بدأ اختبار العناوين" in message for message in said(response))
    assert list(SubjectVariant.objects.filter(digest=digest).values_list("subject", flat=True)) == [FIRST, SECOND]
    page = editor.get(reverse("admin:newsletter_digest_change", args=[digest.pk])).content.decode()
    assert 'id="subject-variants"' in page and "اختر الفائز الآن" in page
    assert 'name="subject_1"' not in page  # no form once the test started


def test_choose_the_winner_now_twice_sends_the_rest_once(
    editor: Client, django_capture_on_commit_callbacks, outbox
) -> None:
    digest = start()
    url = reverse("admin:newsletter_digest_choose_winner", args=[digest.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = editor.post(url)
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = editor.post(url)
    assert any("اختير العنوان الفائز" in m for m in said(first))
    assert any("لم يتغير شيء" in m for m in said(second)) and not second_callbacks
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT and digest.test_winner_reason == WinnerReason.NO_DATA
    assert Delivery.objects.filter(digest=digest, status=Delivery.Status.SENT).count() == 100
    assert len({str(m["To"]) for m in outbox()}) == len(outbox()) == 100


def test_the_report_shows_each_variant_and_which_won_and_why(editor: Client) -> None:
    digest = start()
    editor.post(reverse("admin:newsletter_digest_choose_winner", args=[digest.pk]))
    page = editor.get(reverse("admin:newsletter_digest_report", args=[digest.pk])).content.decode()
    assert 'id="subject-variants"' in page
    assert FIRST in page and SECOND in page
    assert "لا بيانات كافية عند انتهاء الانتظار فأُرسل العنوان الأول" in page
    assert 'class="variant-won"' in page


def test_the_archive_shows_the_winning_subject(client: Client) -> None:
    digest = start()
    Digest.objects.filter(pk=digest.pk).update(subject="")  # the generated subject until the choice
    assert FIRST not in client.get(archive_url(digest).removeprefix("http://testserver")).content.decode()
    SubjectVariant.objects.filter(digest=digest, position=1).update(subject=SECOND)
    SubjectVariant.objects.filter(digest=digest, position=2).update(subject=FIRST)
    assert subject_tests.choose_winner(digest_id=digest.pk)  # no data: the first line, now SECOND
    html = client.get(archive_url(digest).removeprefix("http://testserver")).content.decode()
    listing = client.get(reverse("archive:list")).content.decode()
    assert SECOND in html and FIRST not in html
    assert SECOND in listing
