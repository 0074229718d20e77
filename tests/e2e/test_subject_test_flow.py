"""Issue 27 in the browser: an editor enters two subject lines on the edition page, sends, the
test share goes out split between them, the editor chooses the winner and the rest go out, each
reader once. Screenshot `admin-subject-test-report.png` (the report's variants table) for the
README (written to VAR_DIR/screenshots/, copied by hand to docs/screenshots/)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsletter.analytics.models import Engagement
from newsletter.delivery import batch, dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions import variants
from newsletter.editions.models import Digest, SubjectVariant
from newsletter.orchestration import subject_tests
from tests.e2e.conftest import assert_reads_rtl, editors_group, screenshots_dir
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "subject-test-e2e-pw"
FIRST, SECOND = "الموازنة تمر في البرلمان بعد جلسة طويلة", "ماذا تعني الموازنة الجديدة لراتبك؟"


def login(site, context_factory, *, width: int = 1100):
    editor = get_user_model().objects.create_user("subjects", "subjects@example.com", PASSWORD, is_staff=True)
    editor.groups.add(editors_group())
    page = context_factory(width=width).new_page()
    page.goto(site.url + "/admin/login/?next=/admin/")
    page.locator("#id_username").fill("subjects")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    return page


def subjects_of(outbox) -> Counter[str]:
    return Counter(str(message["Subject"]).strip() for message in outbox())


def test_editor_enters_two_subjects_the_test_share_goes_out_the_winner_goes_to_the_rest(
    site, context_factory, outbox
) -> None:
    digest = make_digest(status=Digest.Status.DRAFT)
    make_subscribers(20)
    page = login(site, context_factory)
    page.goto(f"{site.url}/admin/newsletter/digest/{digest.pk}/change/")
    box = page.locator("#digest-subject-test")
    box.locator("#id_subject_test-subject_1").fill(FIRST)
    box.locator("#id_subject_test-subject_2").fill(SECOND)
    box.get_by_role("button", name="احفظ عناوين الاختبار").click()
    page.locator("ul.messagelist").get_by_text("حُفظت عناوين الاختبار.").wait_for()
    assert page.locator("#id_subject_test-subject_2").input_value() == SECOND

    page.goto(f"{site.url}/admin/newsletter/digest/{digest.pk}/send/")
    page.locator("button[name=_send_now]").click()
    page.locator("#digest-subject-test .subject-test-state").wait_for()
    # The test share: 20% of 20 readers, two each; the rest held.
    assert subjects_of(outbox) == {FIRST: 2, SECOND: 2}
    state = page.locator("#digest-subject-test").inner_text()
    assert "في انتظار نتيجة اختبار العناوين" in state and "يُختار الفائز في" in state
    assert page.locator("#subject-variants tbody tr").count() == 2
    assert_reads_rtl(page, selector="body", text_selector="#digest-subject-test")

    page.get_by_role("button", name="اختر الفائز الآن وأرسله إلى الباقين").click()
    page.locator("ul.messagelist").get_by_text("اختير العنوان الفائز").wait_for()
    # Too few readers to tell: the editor's first subject goes to the other sixteen.
    assert subjects_of(outbox) == {FIRST: 18, SECOND: 2}
    assert sorted(Counter(str(m["To"]) for m in outbox()).values()) == [1] * 20
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT and digest.subject == FIRST
    assert page.locator("#subject-variants tr.variant-won").count() == 1
    assert page.get_by_role("button", name="اختر الفائز الآن وأرسله إلى الباقين").count() == 0


def test_the_report_shows_each_variant_the_winner_and_why(site, context_factory, outbox) -> None:
    """The screenshot's edition: 1,000 readers, a 20% test share, the second subject opened far
    more by people (machine opens do not count) and chosen by the rule."""
    digest = make_digest()
    make_subscribers(1000)
    variants.set_subject_test(digest_id=digest.pk, subjects=[FIRST, SECOND])
    for number in dispatch.dispatch(digest_id=digest.pk, enqueue=False).batches:
        batch.send_batch(digest_id=digest.pk, batch=number)
    now = timezone.now()
    for position, (opens, machine, clicks) in {1: (21, 30, 6), 2: (43, 25, 17)}.items():
        variant = SubjectVariant.objects.get(digest=digest, position=position)
        readers = list(Delivery.objects.filter(digest=digest, variant=variant).values_list("subscriber_id", flat=True))
        Engagement.objects.bulk_create(
            [Engagement(digest=digest, subscriber_id=s, human_open_at=now) for s in readers[:opens]]
            + [
                Engagement(digest=digest, subscriber_id=s, machine_open_at=now)
                for s in readers[opens : opens + machine]
            ]
        )
        Engagement.objects.filter(digest=digest, subscriber_id__in=readers[:clicks]).update(clicked_at=now)
    Digest.objects.filter(pk=digest.pk).update(test_sent_at=now - timedelta(minutes=61))
    assert subject_tests.advance(now=now) == [digest.pk]

    page = login(site, context_factory)
    page.goto(f"{site.url}/admin/newsletter/digest/{digest.pk}/report/")
    table = page.locator("#subject-variants")
    text = table.inner_text()
    assert SECOND in text and "الفائز" in text and "تفوّق بفارق لا تفسّره الصدفة" in text
    assert table.locator("tr.variant-won").inner_text().startswith("٢.")
    assert "٤٣" in text and "١٠٠" in text  # the second subject's human opens and recipients
    assert_reads_rtl(page, selector="body", text_selector="#subject-variants")
    shot = screenshots_dir() / "admin-subject-test-report.png"
    section = page.locator("#subject-test")
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(shot), clip=_clip(page))  # copied by hand to docs/screenshots/


def _clip(page) -> dict[str, float]:
    """From the section's heading to the end of the variants table's note, the table's width."""
    top = page.locator("#subject-test").bounding_box()
    table = page.locator("#subject-variants").bounding_box()
    bottom = page.locator("#subject-variants + p.help").bounding_box()
    left = min(table["x"], bottom["x"]) - 12
    right = max(table["x"] + table["width"], top["x"] + top["width"]) + 12
    return {
        "x": left,
        "y": top["y"] - 8,
        "width": right - left,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }
