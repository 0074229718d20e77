"""Forms for the subscriber pages (signup, preferences, the reason after unsubscribing), the
admin's subscriber form (which refuses a known or suppressed address beside the field) and the
admin CSV import upload.

Validation only: the forms normalise the address (newsletter.subscribers.addresses) and bound every field,
and the views hand cleaned data to newsletter.subscribers.lifecycle. Error messages never say whether
an address is already known.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from articles.content.models import Section
from newsletter.alerts import conf as alerts_conf
from newsletter.editions.models import Frequency, Language
from sitewide import zones
from sitewide.dates import digits

from . import conf, consent
from .addresses import (
    MAX_EMAIL_LENGTH,
    InvalidEmail,
    by_address,
    is_suppressed,
    normalise_email,
)
from .models import Subscriber

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Sources a browser may claim; "import" and "admin" are set by the server only.
PUBLIC_SOURCES = (Subscriber.Source.FORM, Subscriber.Source.ARTICLE_BOX, Subscriber.Source.EMBED)


def _too_long_text() -> str:
    # Evaluated when shown, so the limit is written in the numeral style of the page's language.
    return _("العنوان أطول من %(limit)s حرفًا.") % {"limit": digits(MAX_EMAIL_LENGTH)}


_too_long = lazy(_too_long_text, str)


def _alerts_help_text() -> str:
    limit = alerts_conf.settings().ALERTS_PER_DAY
    return _("رسالة قصيرة حين يقع خبر عاجل (الحد الأقصى في اليوم: %(limit)s).") % {"limit": digits(limit)}


_alerts_help = lazy(_alerts_help_text, str)


class TopicsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            queryset=Section.objects.order_by("position", "name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=_("المواضيع"),
            help_text=_("اترك الكل فارغًا لتصلك أخبار كل الأقسام."),
            **kwargs,
        )


@functools.cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_choices() -> list[tuple[str, object]]:
    # Country and city in the page's language ("المغرب — الدار البيضاء"), one entry per zone.
    return [("", _("توقيت الموقع")), *zones.choices()]


class TimeZoneField(forms.ChoiceField):
    """A zone from the list; an old alias a browser still reports ("Asia/Calcutta") is taken as
    the zone it names ("Asia/Kolkata"), the value the list offers."""

    def to_python(self, value: object) -> str:
        return zones.canonical(super().to_python(value))


class HoneypotField(forms.CharField):
    """Takes whatever a bot types, NUL characters and any length included: a filled honeypot must
    get the answer a real signup gets (and nothing stored), never a 400 that tells the bot which
    field gave it away. The value is only tested for being non-empty, never stored."""

    def __init__(self, *, label: StrOrPromise) -> None:
        super().__init__(required=False, strip=False, label=label)
        self.validators = []  # no ProhibitNullCharactersValidator, no length limit

    def to_python(self, value: object) -> str:
        return "" if value in self.empty_values else str(value)


def _valid_address(raw: str) -> str:
    try:
        return normalise_email(raw)
    except InvalidEmail:
        raise forms.ValidationError(
            _("أدخل عنوان بريد إلكتروني صحيحًا، مثل name@example.com."), code="invalid"
        ) from None


class SignupForm(forms.Form):
    email = forms.CharField(
        label=_("البريد الإلكتروني"),
        # Browsers cap the input; the server still rejects anything longer (oversized fields).
        max_length=MAX_EMAIL_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "dir": "ltr", "required": True}),
        error_messages={"max_length": _too_long()},
    )
    name = forms.CharField(label=_("الاسم (اختياري)"), max_length=100, required=False)
    frequency = forms.ChoiceField(
        label=_("الدورية"),
        choices=Frequency.choices,
        initial=Frequency.DAILY,
        widget=forms.RadioSelect,
    )
    topics = TopicsField()
    alerts = forms.BooleanField(
        label=_("تنبيهات الأخبار العاجلة"),
        required=False,
        help_text=_alerts_help(),
    )
    # Filled from the browser (Intl API) by static/newsletter.js; blank without JavaScript: the
    # site's TIME_ZONE. A name we do not know is treated as blank (the reader cannot see it).
    time_zone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill every field.
    website = HoneypotField(label=_("اترك هذا الحقل فارغًا"))
    source = forms.ChoiceField(
        choices=[(value, value) for value in PUBLIC_SOURCES],
        required=False,
        widget=forms.HiddenInput,
    )

    def clean_email(self) -> str:
        return _valid_address(self.cleaned_data["email"])

    def clean_time_zone(self) -> str:
        name = self.cleaned_data.get("time_zone", "").strip()
        return zones.canonical(name) if name in time_zone_names() else ""

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name", "")
        # A name is stored, never mailed; still refuse control characters (header injection).
        if any(ord(ch) < 32 for ch in name):
            raise forms.ValidationError(_("الاسم يحتوي على رموز غير مسموح بها."), code="invalid")
        return name.strip()


class PreferencesForm(forms.Form):
    frequency = forms.ChoiceField(label=_("الدورية"), choices=Frequency.choices, widget=forms.RadioSelect)
    topics = TopicsField()
    language = forms.ChoiceField(label=_("لغة الرسائل"), choices=Language.choices, widget=forms.RadioSelect)
    time_zone = TimeZoneField(
        label=_("المنطقة الزمنية"),
        choices=time_zone_choices,
        required=False,
        help_text=_("تصلك النشرة في الساعة المحددة بتوقيتك."),
    )
    alerts = forms.BooleanField(
        label=_("تنبيهات الأخبار العاجلة"),
        required=False,
        help_text=_("رسالة قصيرة حين يقع خبر عاجل، تصلك مع النشرة ولا تحلّ محلّها."),
    )
    # Shown only while personal editions are on (newsletter.personal; the view drops it otherwise).
    personal_order = forms.BooleanField(
        label=_("رتّب نشرتي حسب ما أقرؤه"),
        required=False,
        help_text=_(
            "نقدّم في نشرتك ما يشبه ما تنقر عليه ونترك ما قرأته من قبل؛ إن أطفأته وصلتك النشرة "
            "بترتيبها العام وحذفنا سجل ما قرأت."
        ),
    )


class UnsubscribeReasonForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("لماذا ألغيت اشتراكك؟ (اختياري)"),
        choices=[(reason.value, reason.label) for reason in consent.READER_REASONS],
        widget=forms.RadioSelect,
        error_messages={"required": _("اختر سببًا واحدًا."), "invalid_choice": _("اختر سببًا من القائمة.")},
    )


class SubscriberAdminForm(forms.ModelForm):
    """The admin's add and change form. An address that already has a row (any status, any
    case) or is on the suppression list (erased, bounced, complained) is refused beside the
    field: the admin never creates a second row for a reader, nor brings back one who left."""

    class Meta:
        model = Subscriber
        fields = ("email", "name", "status", "frequency", "language", "topics")

    def clean_email(self) -> str:
        address = _valid_address(self.cleaned_data["email"])
        unchanged = self.instance.pk is not None and self.instance.email.lower() == address.lower()
        if unchanged:
            return address
        if by_address(address).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                _("هذا العنوان مشترك بالفعل: ابحث عنه في قائمة المشتركين وعدّل صفحته."), code="exists"
            )
        if is_suppressed(address):
            raise forms.ValidationError(
                _("هذا العنوان محظور (حُذفت بياناته أو ارتدّ بريده أو اشتكى صاحبه): لا يُضاف من جديد."),
                code="suppressed",
            )
        return address


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("ملف CSV"),
        help_text=_(
            "ترميز UTF-8، سطر عناوين فيه العمود email على الأقل، "
            "واختياريًا name وfrequency وlanguage وtopics (الأقسام مفصولة بـ |: رقم القسم أو معرّفه أو اسمه)."
        ),
    )
    send_confirmation = forms.BooleanField(
        label=_("أرسل رسالة تأكيد (المشتركون الجدد بانتظار التأكيد)"),
        required=False,
        initial=True,
        help_text=_("بلا تأكيد يُعدّ المستوردون مشتركين فورًا: استعمله فقط لقوائم وافقت مسبقًا."),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        limit = conf.settings().SUBSCRIBER_IMPORT_MAX_ROWS * 400  # generous bytes-per-row bound
        if upload.size > limit:
            raise forms.ValidationError(_("الملف أكبر من المسموح."), code="too_large")
        return upload
