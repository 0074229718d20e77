"""The edition page's sending views, mixed into DigestAdmin: the confirmation step of "send now"
and "schedule at" (audience per segment from newsletter.editions.audience), test sends to a list
of addresses, and the editors' schedule form (daily at HH:MM, weekly on a day at HH:MM, in the
newsroom's time zone) that writes django-celery-beat's rows through newsletter.editions.timetable.

Views are thin: each validates a form and calls one service; DigestError becomes a message.
"""

from __future__ import annotations

import re
from datetime import time
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

from config import zones
from config.dates import digits, format_datetime

from ..editions import audience, schedule, timetable
from ..editions.state import EDITABLE_STATUSES, DigestError
from ..email import message
from ..models import Digest, Frequency, Language

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
    language = forms.ChoiceField(label=_("اللغة"), choices=Language.choices, initial=settings.LANGUAGE_CODE)

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
                    schedule.schedule_at(digest_id=digest.pk, user=request.user, when=when)
                    self.message_user(
                        request,
                        _("سيُرسل العدد في %(when)s.") % {"when": format_datetime(when)},
                        messages.SUCCESS,
                    )
                else:
                    outcome = schedule.send_now(digest_id=digest.pk, user=request.user)
                    if outcome.result == schedule.RunResult.DISPATCHED:
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
            "stories": len(schedule.curation.active_items(digest)),
        }
        return TemplateResponse(request, "admin/newsletter/digest/send.html", context)

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        digest = self._get(request, pk, change=False)
        form = TestSendForm(request.POST)
        if not form.is_valid():
            for error in [*form.errors.get("addresses", []), *form.errors.get("language", [])]:
                self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(self._change_url(digest))
        addresses = form.cleaned_data["addresses"]
        sent = 0
        for address in addresses:
            test = message.test_message(digest, to=address, language=form.cleaned_data["language"])
            if test is None:
                self.message_user(
                    request,
                    _("قصص هذا العدد أقل من الحد الأدنى (%(minimum)s): لا شيء يُرسل.")
                    % {"minimum": digits(settings.DIGEST_MIN_STORIES)},
                    messages.ERROR,
                )
                return HttpResponseRedirect(self._change_url(digest))
            sent += test.send()
        self.message_user(
            request, _("أُرسلت نسخة تجريبية إلى %(email)s.") % {"email": "، ".join(addresses)}, messages.SUCCESS
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
            frequency.label: timezone.localtime(schedule.next_run(frequency))
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
