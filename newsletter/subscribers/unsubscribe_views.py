"""The pages a reader reaches from an email's unsubscribe link: the landing page (leave, or get
the weekly edition instead), the RFC 8058 one-click POST, the optional reason afterwards, and
resubscribe; and a breaking-news alert's own unsubscribe link, which ends alerts only (same
rules: a GET asks, any POST stops them, one-click).

Rules (docs/EMAIL.md rule 16, RELIABILITY.md):
- A GET never unsubscribes or changes anything (link scanners fetch every URL): it shows the
  choices. Every change is a POST carrying the signed token in its URL.
- The unsubscribe POST itself is the one-click endpoint: no cookie, no CSRF token, no login,
  the body never read, answered 200 and never a redirect. It is CSRF-exempt for that reason.
- The other POSTs here (weekly instead, the reason, resubscribe) come from our own pages and
  carry the CSRF token as well as the signed link.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from newsletter.editions.models import Frequency

from . import consent, lifecycle
from .forms import UnsubscribeReasonForm
from .models import Subscriber
from .pages import invalid_link, preferences_token, request_ip, subscriber_for, with_subscriber
from .tokens import Purpose, TokenError

Status = Subscriber.Status


def _can_switch_to_weekly(subscriber: Subscriber | None) -> bool:
    return (
        subscriber is not None
        and subscriber.frequency == Frequency.DAILY
        and lifecycle.may_change_preferences(subscriber)
    )


def _unsubscribed_page(
    request: HttpRequest, token: str, subscriber: Subscriber | None, *, status: int = 200, **extra: Any
) -> HttpResponse:
    can_resubscribe = subscriber is not None and subscriber.status == Status.UNSUBSCRIBED
    context = {
        "token": token,
        "can_resubscribe": can_resubscribe,
        # The reason is asked right after leaving (not of a bounced or erased address, nor on an
        # old link's visit); it is stored once (consent.give_unsubscribe_reason).
        "reason_form": UnsubscribeReasonForm() if can_resubscribe and not extra.get("already") else None,
        **extra,
    }
    return render(request, "newsletter/unsubscribed.html", context, status=status)


@csrf_exempt  # RFC 8058: the one-click POST comes from a mail provider with no cookie or token.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_for(token, Purpose.UNSUBSCRIBE)
    except TokenError:
        return invalid_link(request)
    if request.method == "GET":
        if subscriber is not None and not subscriber.is_active and subscriber.status != Status.PENDING:
            # An old link of an address that already left: say so instead of asking again.
            return _unsubscribed_page(request, token, subscriber, already=True)
        context = {"token": token, "known": subscriber is not None, "weekly": _can_switch_to_weekly(subscriber)}
        return render(request, "newsletter/unsubscribe.html", context)
    # The body (List-Unsubscribe=One-Click, urlencoded or multipart) is deliberately not read:
    # any POST to a valid unsubscribe URL unsubscribes, and nothing can fail while parsing it.
    if subscriber is not None:
        lifecycle.unsubscribe(subscriber=subscriber)
    return _unsubscribed_page(request, token, subscriber)


@require_POST
@with_subscriber(Purpose.UNSUBSCRIBE)
def weekly_instead(request: HttpRequest, token: str, subscriber: Subscriber) -> HttpResponse:
    """The landing page's other choice: the weekly edition instead of the daily one."""
    if not lifecycle.may_change_preferences(subscriber):
        return render(
            request,
            "newsletter/message.html",
            {"title": _("تعذّر التغيير"), "body": _("هذا الاشتراك لم يعد قائمًا، فلا دورية نغيّرها.")},
            status=409,
        )
    lifecycle.switch_to_weekly(subscriber=subscriber)  # already weekly (a second click): nothing to do
    return render(
        request,
        "newsletter/message.html",
        {
            "title": _("ستصلك النشرة الأسبوعية"),
            "body": _("لن تصلك النشرة اليومية بعد الآن؛ ستصلك بدلًا منها نشرة أسبوعية بأكثر ما قُرئ في الأسبوع."),
            "link": (
                reverse("newsletter:preferences", kwargs={"token": preferences_token(subscriber)}),
                _("إدارة اشتراكك"),
            ),
        },
    )


@require_POST
@with_subscriber(Purpose.UNSUBSCRIBE)
def unsubscribe_reason(request: HttpRequest, token: str, subscriber: Subscriber) -> HttpResponse:
    """The optional reason after leaving, stored on the consent history's latest unsubscribe."""
    form = UnsubscribeReasonForm(request.POST)
    if not form.is_valid():
        return _unsubscribed_page(request, token, subscriber, reason_form=form, status=400)
    consent.give_unsubscribe_reason(subscriber=subscriber, reason=form.cleaned_data["reason"])
    return _unsubscribed_page(request, token, subscriber, reason_form=None, thanked=True)


@require_POST
@with_subscriber(Purpose.UNSUBSCRIBE)
def resubscribe(request: HttpRequest, token: str, subscriber: Subscriber) -> HttpResponse:
    outcome = lifecycle.resubscribe(
        subscriber=subscriber, ip=request_ip(request), user_agent=request.headers.get("User-Agent", "")
    )
    messages = {
        lifecycle.ResubscribeOutcome.ACTIVE: (_("عدت إلى القائمة"), _("أهلًا بعودتك. ستصلك النشرة من جديد.")),
        lifecycle.ResubscribeOutcome.CONFIRMATION_SENT: (
            _("خطوة أخيرة"),
            _("أرسلنا إليك رسالة تأكيد: اضغط الزر الذي فيها لإكمال الاشتراك."),
        ),
        lifecycle.ResubscribeOutcome.NOT_ALLOWED: (
            _("تعذّر الاشتراك"),
            _("لا يمكن إعادة الاشتراك بهذا العنوان من هنا. راسلنا إن كان ذلك خطأ."),
        ),
    }
    title, body = messages[outcome]
    context: dict[str, Any] = {"title": title, "body": body}
    if outcome != lifecycle.ResubscribeOutcome.NOT_ALLOWED:
        # Back on the list: the next step is their preferences, not the signup page.
        context["link"] = (
            reverse("newsletter:preferences", kwargs={"token": preferences_token(subscriber)}),
            _("إدارة اشتراكك"),
        )
    return render(request, "newsletter/message.html", context)


@csrf_exempt  # RFC 8058, as `unsubscribe`: the alert's List-Unsubscribe-Post comes with no cookie or token.
@require_http_methods(["GET", "POST"])
def alerts_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """An alert's unsubscribe link: stops breaking-news alerts, the digest stays as it is."""
    try:
        subscriber = subscriber_for(token, Purpose.UNSUBSCRIBE)
    except TokenError:
        return invalid_link(request)
    if request.method == "GET":
        return render(request, "newsletter/alerts_unsubscribe.html", {"token": token})
    if subscriber is not None:
        lifecycle.stop_alerts(subscriber=subscriber)
    context: dict[str, Any] = {
        "title": _("أوقفنا التنبيهات العاجلة"),
        "body": _("لن تصلك التنبيهات العاجلة بعد الآن. النشرة التي اشتركت فيها تصلك كما هي."),
    }
    if subscriber is not None and lifecycle.may_change_preferences(subscriber):
        context["link"] = (
            reverse("newsletter:preferences", kwargs={"token": preferences_token(subscriber)}),
            _("إدارة اشتراكك"),
        )
    return render(request, "newsletter/message.html", context)
