"""An edition sent now carries today's date (issue 22): on Thursday 3 December "أرسل الآن" sent the
edition dated Friday 4 December, and Friday's 07:00 run then found it sent and sent nothing.
Now the early edition is Thursday's (the day's second when Thursday's own went out), Friday's run
composes and sends Friday's edition with its own stories, and the edition page says which
edition its buttons act on. The clock is set by each test (Thursday 15:00 in Baghdad)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from newsletter.archive import views
from newsletter.delivery.models import Delivery
from newsletter.editions import curation
from newsletter.editions.models import Digest
from newsletter.email.links import archive_url
from newsletter.orchestration import runs
from tests.newsletter.digest_helpers import ranked_articles, subscriber

pytestmark = pytest.mark.django_db

BAGHDAD = ZoneInfo("Asia/Baghdad")
THURSDAY_0700 = datetime(2026, 12, 3, 7, 0, tzinfo=BAGHDAD)
THURSDAY_1500 = datetime(2026, 12, 3, 15, 0, tzinfo=BAGHDAD)
FRIDAY_0700 = datetime(2026, 12, 4, 7, 0, tzinfo=BAGHDAD)


@pytest.fixture
def newsroom(settings, time_machine, django_capture_on_commit_callbacks):
    """Stories read since Wednesday, three daily readers, one send at the newsroom's hour."""
    settings.DIGEST_LOCAL_TIME = False
    settings.NUMERALS = ""
    time_machine.move_to(THURSDAY_0700 - timedelta(hours=20), tick=False)
    ranked_articles(12, at=THURSDAY_0700 - timedelta(hours=12), prefix="الأربعاء")
    readers = [subscriber(f"r{i}@example.com") for i in range(3)]
    return readers


def at(time_machine, moment: datetime) -> None:
    time_machine.move_to(moment, tick=False)


def send_now_of_the_next_edition(time_machine, capture) -> Digest:
    """What the editor does on Thursday afternoon: open the next edition, send it now."""
    at(time_machine, THURSDAY_1500)
    ranked_articles(12, at=THURSDAY_1500 - timedelta(hours=1), prefix="الخميس")
    draft = runs.next_draft("daily")
    assert draft.edition_date == date(2026, 12, 4)  # the next run is Friday's
    editor = get_user_model().objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    with capture(execute=True):
        assert runs.send_now(digest_id=draft.pk, user=editor).result == runs.RunResult.DISPATCHED
    draft.refresh_from_db()
    return draft


def test_send_now_on_thursday_afternoon_sends_thursdays_edition_and_fridays_still_goes(
    newsroom, time_machine, django_capture_on_commit_callbacks, outbox
) -> None:
    early = send_now_of_the_next_edition(time_machine, django_capture_on_commit_callbacks)

    # Thursday had no edition yet: the early one is Thursday's own.
    assert (early.edition_date, early.number) == (date(2026, 12, 3), 1)
    sent = outbox()
    assert len(sent) == 3 and all("الخميس ٣ ديسمبر" in message["Subject"] for message in sent)
    assert archive_url(early).endswith("/archive/daily/2026-12-03/")

    # Friday 07:00: Friday's edition is composed afresh and sent, without the early one's stories.
    at(time_machine, FRIDAY_0700)
    with django_capture_on_commit_callbacks(execute=True):
        friday = runs.run_scheduled(frequency="daily")
    assert friday.result == runs.RunResult.DISPATCHED
    assert friday.digest.pk != early.pk and friday.digest.edition_date == date(2026, 12, 4)
    early_stories = set(early.items.filter(removed=False).values_list("article_id", flat=True))
    friday_stories = set(friday.digest.items.filter(removed=False).values_list("article_id", flat=True))
    assert friday_stories and early_stories.isdisjoint(friday_stories)
    assert len(outbox()) == 6 and all("الجمعة ٤ ديسمبر" in m["Subject"] for m in outbox()[3:])


def test_after_thursdays_own_edition_the_early_one_is_thursdays_second(
    newsroom, time_machine, django_capture_on_commit_callbacks, outbox, client
) -> None:
    at(time_machine, THURSDAY_0700)
    with django_capture_on_commit_callbacks(execute=True):
        own = runs.run_scheduled(frequency="daily").digest
    assert (own.edition_date, own.number, own.status) == (date(2026, 12, 3), 1, Digest.Status.SENDING)

    early = send_now_of_the_next_edition(time_machine, django_capture_on_commit_callbacks)

    assert (early.edition_date, early.number) == (date(2026, 12, 3), 2)
    assert Delivery.objects.filter(digest=early).count() == 3  # the readers who had the 07:00 one too
    assert archive_url(early).endswith("/archive/daily/2026-12-03/2/")
    Digest.objects.filter(pk__in=[own.pk, early.pk]).update(status=Digest.Status.SENT)
    listed = list(views.public_editions())
    assert [(d.edition_date, d.number) for d in listed] == [(date(2026, 12, 3), 2), (date(2026, 12, 3), 1)]
    page = client.get(archive_url(early).removeprefix("http://testserver"))
    assert page.status_code == 200
    assert early.items.filter(removed=False).first().article.title in page.content.decode()

    # Friday's run leaves out what both Thursday editions sent.
    at(time_machine, FRIDAY_0700)
    ranked_articles(12, at=FRIDAY_0700 - timedelta(hours=2), prefix="الجمعة")
    with django_capture_on_commit_callbacks(execute=True):
        friday = runs.run_scheduled(frequency="daily").digest
    thursday_stories = set(
        curation.DigestItem.objects.filter(digest__in=[own, early], removed=False).values_list("article_id", flat=True)
    )
    assert (friday.edition_date, friday.number) == (date(2026, 12, 4), 1)
    assert thursday_stories.isdisjoint(friday.items.filter(removed=False).values_list("article_id", flat=True))


def test_send_digest_twice_in_a_day_sends_once(newsroom, time_machine, outbox) -> None:
    from django.core.management import call_command

    at(time_machine, THURSDAY_1500)
    ranked_articles(12, at=THURSDAY_1500 - timedelta(hours=1), prefix="الخميس")
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    [edition] = Digest.objects.all()
    assert (edition.edition_date, edition.status) == (date(2026, 12, 3), Digest.Status.SENT)
    from io import StringIO

    out = StringIO()
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=out)
    assert "already sent today" in out.getvalue() and Digest.objects.count() == 1 and len(outbox()) == 3


def test_the_edition_page_says_which_edition_its_buttons_act_on(newsroom, time_machine) -> None:
    at(time_machine, THURSDAY_1500)
    ranked_articles(12, at=THURSDAY_1500 - timedelta(hours=1), prefix="الخميس")
    draft = runs.next_draft("daily")
    user = get_user_model().objects.create_user("editor", "e@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    editor = Client()
    editor.force_login(user)
    for url in (
        reverse("admin:newsletter_digest_change", args=[draft.pk]),
        reverse("admin:newsletter_digest_send", args=[draft.pk]),
    ):
        html = editor.get(url).content.decode()
        note = re.search(r'<p class="help digest-sending-note"[^>]*>([^<]*)</p>', html)
        assert note, url
        text = note.group(1)
        assert "٤ ديسمبر" in text and "الخميس ٣ ديسمبر" in text and "من جديد في موعده" in text, text


THURSDAY_0010 = datetime(2026, 12, 3, 0, 10, tzinfo=BAGHDAD)


def send_now_after_midnight(time_machine, capture) -> Digest:
    """What the editor does at 00:10 on Thursday, before Thursday's 07:00 run: the next edition is
    already Thursday's own; send it now."""
    at(time_machine, THURSDAY_0010)
    ranked_articles(12, at=THURSDAY_0010 - timedelta(minutes=30), prefix="منتصف الليل")
    draft = runs.next_draft("daily")
    assert (draft.edition_date, draft.scheduled_for) == (date(2026, 12, 3), THURSDAY_0700)
    editor = get_user_model().objects.create_user("night", "night@example.com", "pw", is_staff=True)
    with capture(execute=True):
        assert runs.send_now(digest_id=draft.pk, user=editor).result == runs.RunResult.DISPATCHED
    draft.refresh_from_db()
    return draft


def test_send_now_after_midnight_keeps_the_mornings_scheduled_edition(
    newsroom, time_machine, django_capture_on_commit_callbacks, outbox
) -> None:
    """Between the newsroom's midnight and the 07:00 run the next edition is today's own: sent now it
    went out dated today (right), but it was the very edition the 07:00 run looked up, so the run
    found it sent and nothing fresh went out that morning."""
    early = send_now_after_midnight(time_machine, django_capture_on_commit_callbacks)
    assert (early.edition_date, early.number, early.extra) == (date(2026, 12, 3), 1, True)
    assert len(outbox()) == 3 and all("الخميس ٣ ديسمبر" in m["Subject"] for m in outbox())

    at(time_machine, THURSDAY_0700)
    ranked_articles(12, at=THURSDAY_0700 - timedelta(hours=1), prefix="الصباح")
    with django_capture_on_commit_callbacks(execute=True):
        morning = runs.run_scheduled(frequency="daily")
    assert morning.result == runs.RunResult.DISPATCHED
    assert morning.digest.pk != early.pk
    assert (morning.digest.edition_date, morning.digest.number, morning.digest.extra) == (date(2026, 12, 3), 2, False)
    early_stories = set(early.items.filter(removed=False).values_list("article_id", flat=True))
    morning_stories = set(morning.digest.items.filter(removed=False).values_list("article_id", flat=True))
    assert morning_stories and early_stories.isdisjoint(morning_stories)
    assert len(outbox()) == 6
    assert all("الخميس ٣ ديسمبر" in m["Subject"] for m in outbox()[3:])

    # A second beat, or the next hour's, finds the morning's edition gone out: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = runs.run_scheduled(frequency="daily")
    assert again.result == runs.RunResult.ALREADY and again.digest.pk == morning.digest.pk
    assert len(outbox()) == 6


def test_send_now_after_midnight_in_local_time_waves(
    newsroom, settings, time_machine, django_capture_on_commit_callbacks, outbox
) -> None:
    """The same with the default local-time waves: the readers' 07:00 wave still gets a fresh edition."""
    settings.DIGEST_LOCAL_TIME = True
    early = send_now_after_midnight(time_machine, django_capture_on_commit_callbacks)
    assert early.extra and len(outbox()) == 3

    at(time_machine, THURSDAY_0700)
    ranked_articles(12, at=THURSDAY_0700 - timedelta(hours=1), prefix="الصباح")
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = runs.run_waves(frequency="daily")
    assert [o.result.value for o in outcomes] == ["dispatched"]
    wave = Digest.objects.get(pk=outcomes[0].digest_id)
    assert wave.wave_of_id != early.pk and wave.edition_date == date(2026, 12, 3)
    early_stories = set(early.items.filter(removed=False).values_list("article_id", flat=True))
    assert early_stories.isdisjoint(wave.items.filter(removed=False).values_list("article_id", flat=True))
    assert len(outbox()) == 6


def test_the_edition_page_says_an_early_send_leaves_the_mornings_edition(newsroom, time_machine) -> None:
    at(time_machine, THURSDAY_0010)
    ranked_articles(12, at=THURSDAY_0010 - timedelta(minutes=30), prefix="منتصف الليل")
    draft = runs.next_draft("daily")
    from newsletter.admin.digest_sending import sending_note

    note = sending_note(draft)
    assert note and "من جديد في موعده" in note, note


def test_send_digest_after_an_early_send_now_still_sends_the_mornings_edition(
    newsroom, time_machine, django_capture_on_commit_callbacks, outbox
) -> None:
    """A newsroom that sends by cron (`send_digest`) instead of the beat: after "send now" at 00:10
    the 07:00 command said "already sent today" and the morning's edition never went out."""
    from io import StringIO

    from django.core.management import call_command

    early = send_now_after_midnight(time_machine, django_capture_on_commit_callbacks)
    assert early.extra and len(outbox()) == 3

    at(time_machine, THURSDAY_0700)
    ranked_articles(12, at=THURSDAY_0700 - timedelta(hours=1), prefix="الصباح")
    out = StringIO()
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=out)
    morning = Digest.objects.exclude(pk=early.pk).get()
    assert (morning.edition_date, morning.status) == (date(2026, 12, 3), Digest.Status.SENT), out.getvalue()
    assert len(outbox()) == 6 and all("الخميس ٣ ديسمبر" in m["Subject"] for m in outbox()[3:])
    early_stories = set(early.items.filter(removed=False).values_list("article_id", flat=True))
    morning_stories = set(morning.items.filter(removed=False).values_list("article_id", flat=True))
    assert morning_stories and early_stories.isdisjoint(morning_stories)

    # The cron's retry the same morning: nothing more.
    again = StringIO()
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=again)
    assert "already sent today" in again.getvalue() and len(outbox()) == 6
