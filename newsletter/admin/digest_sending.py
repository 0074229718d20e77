"""The edition page's sending views, mixed into DigestAdmin: the confirmation step of "send now"
and "schedule at" (audience per segment from newsletter.subscribers.audience), test sends to a list
of addresses, and the editors' schedule form (daily at HH:MM, weekly on a day at HH:MM, in the
newsroom's time zone) that writes django-celery-beat's rows through newsletter.orchestration.timetable.

Views are thin: each validates a form and calls one service; DigestError becomes a message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from articles.content.models import Section
from newsletter.delivery import conf as delivery_conf
from newsletter.delivery import test_sends
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, Frequency, Language
from newsletter.editions.segments import Segment
from newsletter.editions.state import EDITABLE_STATUSES, DigestError
from newsletter.orchestration import runs, timetable
from newsletter.subscribers import audience
from sitewide import zones
from sitewide.dates import digits, format_date, format_datetime, grouped

MAX_TEST_ADDRESSES = 10
WEEKDAYS = [
    (5, _("السبت")),
    (6, _("الأحد")),
    (0, _("الاثنين")),
    (1, _("الثلاثاء")),
    (2, _("الأربعاء")),
    (3, _("الخميس")),
    (4, _("الجمعة")),
]


def _addresses_help() -> str:
    # Written when shown, in the numerals of the page's language.
    return gettext("حتى %(n)s عناوين، يفصل بينها سطر جديد أو فاصلة.") % {"n": digits(MAX_TEST_ADDRESSES)}


class TestSendForm(forms.Form):
    addresses = forms.CharField(
        label=_("العناوين"),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr", "cols": 40}),
        help_text=lazy(_addresses_help, str)(),
    )
    # Not posted (an older page): the site's language with every section, as tests always were.
    segment = forms.ChoiceField(label=_("الشريحة"), initial=f"{settings.LANGUAGE_CODE}:", required=False)

    def __init__(self, *args: Any, frequency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frequency = frequency
        self.segments = test_segments()
        segment = self.fields["segment"]
        assert isinstance(segment, forms.ChoiceField)
        segment.choices = [
            *((key, label) for key, (_segment, label) in self.segments.items()),
            (EVERY_SEGMENT, _("كل شرائح الجمهور (رسالة لكل شريحة)")),
        ]

    def chosen(self) -> list[tuple[Segment, str]]:
        """The segments to send a test of, with their names (the form is valid)."""
        key = self.cleaned_data.get("segment") or f"{settings.LANGUAGE_CODE}:"
        if key == EVERY_SEGMENT:
            return audience_segments(frequency=self.frequency)[:MAX_TEST_SEGMENTS] or list(self.segments.values())[:1]
        return [self.segments[key]]

    def clean_addresses(self) -> list[str]:
        found = [a for a in re.split(r"[\s,;،]+", self.cleaned_data["addresses"]) if a]
        addresses = list(dict.fromkeys(a.lower() for a in found))
        if not addresses:
            raise ValidationError(_("اكتب عنوانًا واحدًا على الأقل."))
        if len(addresses) > MAX_TEST_ADDRESSES:
            raise ValidationError(
                _("عدد العناوين %(n)s، والحد %(max)s")
                % {"n": digits(len(addresses)), "max": digits(MAX_TEST_ADDRESSES)}
            )
        invalid = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                invalid.append(address)
        if invalid:
            raise ValidationError(_("عناوين غير صالحة: %(list)s") % {"list": "، ".join(invalid)})
        return addresses


EVERY_SEGMENT = "every"
# "Every segment" sends one message per segment to each address: the largest segments first.
MAX_TEST_SEGMENTS = 10


def segment_key(segment: Segment) -> str:
    return f"{segment.language}:{','.join(str(pk) for pk in segment.section_ids)}"


def segment_label(*, language: str, section_names: Sequence[str]) -> str:
    """ "العربية — رياضة، اقتصاد" / "English — كل الأقسام", as the send page lists segments."""
    topics = "، ".join(section_names) if section_names else str(_("كل الأقسام"))
    return f"{Language(language).label} — {topics}"


def _languages() -> list[str]:
    return [settings.LANGUAGE_CODE, *(code for code in Language.values if code != settings.LANGUAGE_CODE)]


def test_segments() -> dict[str, tuple[Segment, str]]:
    """The segments an editor may pick for a test without counting the audience (the edition
    page stays one cheap read at a million subscribers): each language with every section, and
    each language with one section."""
    found: dict[str, tuple[Segment, str]] = {}
    sections = list(Section.objects.order_by("position", "name").values_list("pk", "name"))
    for language in _languages():
        segment = Segment(language=language)
        found[segment_key(segment)] = (segment, segment_label(language=language, section_names=()))
        for pk, name in sections:
            segment = Segment(language=language, section_ids=(pk,))
            found[segment_key(segment)] = (segment, segment_label(language=language, section_names=(name,)))
    return found


def audience_segments(*, frequency: str) -> list[tuple[Segment, str]]:
    """Every segment the frequency's audience has (newsletter.subscribers.audience), largest first,
    with its subscriber count: what "every segment" sends a test of."""
    return [
        (
            Segment(language=group.language, section_ids=group.section_ids),
            f"{segment_label(language=group.language, section_names=group.section_names)} ({grouped(group.count)})",
        )
        for group in audience.audience_by_segment(frequency=frequency)
    ]


class SendForm(forms.Form):
    when = forms.DateTimeField(
        label=_("موعد الإرسال"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per request, not at import: in the editor's language, the zone by its city.
        self.fields["when"].help_text = _("بتوقيت غرفة الأخبار (%(zone)s).") % {"zone": zones.place(settings.TIME_ZONE)}


class ScheduleForm(forms.Form):
    daily_enabled = forms.BooleanField(label=_("العدد اليومي مفعّل"), required=False)
    daily_time = forms.TimeField(label=_("العدد اليومي: الساعة"), widget=forms.TimeInput(attrs={"type": "time"}))
    weekly_enabled = forms.BooleanField(label=_("العدد الأسبوعي مفعّل"), required=False)
    weekly_day = forms.TypedChoiceField(label=_("العدد الأسبوعي: اليوم"), choices=WEEKDAYS, coerce=int)
    weekly_time = forms.TimeField(label=_("العدد الأسبوعي: الساعة"), widget=forms.TimeInput(attrs={"type": "time"}))

    @classmethod
    def initial_values(cls) -> dict[str, Any]:
        daily, weekly = timetable.current_slot(Frequency.DAILY), timetable.current_slot(Frequency.WEEKLY)
        return {
            "daily_enabled": daily.enabled,
            "daily_time": time(daily.hour, daily.minute),
            "weekly_enabled": weekly.enabled,
            "weekly_day": weekly.weekday if weekly.weekday is not None else 5,
            "weekly_time": time(weekly.hour, weekly.minute),
        }


def sending_note(digest: Digest, *, now: datetime | None = None) -> str | None:
    """Which edition the page's buttons act on, said plainly (issue 22): an edition sent before
    its day goes out dated today (newsletter.orchestration.runs.date_for_sending), and the edition
    of its run is then composed afresh at that run."""
    if digest.status not in EDITABLE_STATUSES or digest.utc_offset is not None:
        return None
    now = now or timezone.now()
    sending = runs.sending_day(digest, now=now)
    day, number = sending.edition_date, sending.number
    own = str(digest)
    run = format_datetime(digest.scheduled_for, with_weekday=True) if digest.scheduled_for else ""
    if sending.of(digest):
        return _("تعمل أزرار هذه الصفحة على عدد %(edition)s، ويُرسل في موعده %(run)s ما لم ترسله قبله.") % {
            "edition": own,
            "run": run or _("الذي يحدده المحرر"),
        }
    sent_as = format_date(day)
    if number > 1:
        sent_as = _("%(day)s (العدد %(number)s لهذا اليوم)") % {"day": sent_as, "number": digits(number)}
    return _(
        "هذا عدد %(edition)s المقرر في %(run)s، و«أرسل الآن» يرسله اليوم عددًا بتاريخ %(today)s، "
        "ثم يُركَّب عدد %(edition)s من جديد في موعده بقصص غير التي أُرسلت."
    ) % {"edition": own, "run": run, "today": sent_as}


class EditionSendingViews(admin.ModelAdmin):
    """Mixed into DigestAdmin (which provides _get and _change_url)."""

    def _get(self, request: HttpRequest, pk: int, *, change: bool) -> Digest:
        raise NotImplementedError

    def _change_url(self, digest: Digest) -> str:
        raise NotImplementedError

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET: the confirmation step (audience per segment); POST: send now or schedule at."""
        digest = self._get(request, pk, change=True)
        if digest.status not in EDITABLE_STATUSES:
            self.message_user(
                request, _("لا يمكن إرسال عدد حالته «%(status)s».") % {"status": digest.get_status_display()}
            )
            return HttpResponseRedirect(self._change_url(digest))
        form = SendForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                if "_schedule" in request.POST:
                    when = form.cleaned_data["when"]
                    if when is None:
                        raise DigestError(_("اختر موعد الإرسال."))
                    runs.schedule_at(digest_id=digest.pk, user=request.user, when=when)
                    self.message_user(
                        request,
                        _("سيُرسل العدد في %(when)s.") % {"when": format_datetime(when)},
                        messages.SUCCESS,
                    )
                else:
                    outcome = runs.send_now(digest_id=digest.pk, user=request.user)
                    if outcome.result == runs.RunResult.DISPATCHED:
                        self.message_user(request, _("بدأ إرسال العدد."), messages.SUCCESS)
                    else:
                        self.message_user(request, _("لم يُرسل: العدد أُرسل أو بدأ إرساله من قبل."), messages.WARNING)
                return HttpResponseRedirect(self._change_url(digest))
            except DigestError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        segments = audience.audience_by_segment(frequency=digest.frequency)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": digest,
            "title": _("إرسال: %(digest)s") % {"digest": digest},
            "segments": segments,
            "total": sum(s.count for s in segments),
            "form": form,
            "stories": len(runs.curation.active_items(digest)),
            "sending_note": sending_note(digest),
        }
        return TemplateResponse(request, "admin/newsletter/digest/send.html", context)

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A test of the edition as one segment (or each segment) of the audience receives it
        (newsletter.delivery.test_sends: who may receive one, and how many an hour)."""
        digest = self._get(request, pk, change=False)
        if not admin.ModelAdmin.has_change_permission(self, request):
            raise PermissionDenied  # a test mails people: viewing editions is not enough
        form = TestSendForm(request.POST, frequency=digest.frequency)
        if not form.is_valid():
            for error in [*form.errors.get("addresses", []), *form.errors.get("segment", [])]:
                self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(self._change_url(digest))
        addresses = form.cleaned_data["addresses"]
        result = test_sends.send_tests(
            digest=digest, user_id=request.user.pk or 0, addresses=addresses, chosen=form.chosen()
        )
        if result.refused:
            self.message_user(
                request,
                _("لا تُرسل نسخ تجريبية إلى عناوين ألغت اشتراكها أو ارتدّت أو اشتكت أو حُذفت: %(list)s")
                % {"list": "، ".join(result.refused)},
                messages.ERROR,
            )
        if result.over_limit:
            self.message_user(
                request,
                _("بلغت حد النسخ التجريبية في الساعة (%(limit)s رسالة)؛ لم يُرسل شيء. حاول بعد قليل.")
                % {"limit": digits(delivery_conf.settings().TEST_SENDS_PER_USER_PER_HOUR)},
                messages.ERROR,
            )
        if result.too_few:
            self.message_user(
                request,
                _("قصص هذه الشرائح أقل من الحد الأدنى (%(minimum)s)، فلم تُرسل: %(segments)s")
                % {
                    "minimum": digits(editions_conf.settings().DIGEST_MIN_STORIES),
                    "segments": "؛ ".join(result.too_few),
                },
                messages.ERROR,
            )
        if result.sent:
            allowed = [a for a in addresses if a not in result.refused]
            self.message_user(
                request,
                _("أُرسلت نسخة تجريبية إلى %(email)s: %(segments)s")
                % {"email": "، ".join(allowed), "segments": "؛ ".join(result.sent)},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(self._change_url(digest))

    def schedule_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None, initial=ScheduleForm.initial_values())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            timetable.set_slot(
                frequency=Frequency.DAILY,
                slot=timetable.Slot(
                    hour=data["daily_time"].hour,
                    minute=data["daily_time"].minute,
                    weekday=None,
                    enabled=data["daily_enabled"],
                ),
            )
            timetable.set_slot(
                frequency=Frequency.WEEKLY,
                slot=timetable.Slot(
                    hour=data["weekly_time"].hour,
                    minute=data["weekly_time"].minute,
                    weekday=data["weekly_day"],
                    enabled=data["weekly_enabled"],
                ),
            )
            self.message_user(request, _("حُفظت مواعيد الإرسال."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:newsletter_digest_schedule"))
        upcoming = {
            frequency.label: timezone.localtime(runs.next_run(frequency))
            for frequency in (Frequency.DAILY, Frequency.WEEKLY)
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("مواعيد الإرسال"),
            "form": form,
            "upcoming": upcoming,
            "zone": zones.place(settings.TIME_ZONE),
        }
        return TemplateResponse(request, "admin/newsletter/digest/schedule.html", context)
