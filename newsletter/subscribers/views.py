"""Subscriber-facing views: signup (page, article box, embeddable iframe), confirmation and
preferences. The pages a reader reaches from an email's unsubscribe link live in
newsletter.subscribers.unsubscribe_views.

Thin: each view validates input (forms, signed tokens) and calls newsletter.lifecycle.
Rules that matter here:
- The signup response is the same page, status and message whatever happened to the address.
- GET never changes anything (link scanners fetch every URL); changes are POSTs.
- The embed form is CSRF-exempt (the other such view is the RFC 8058 unsubscribe POST): it runs
  inside another site's iframe where our cookies are third-party, and is protected by a signed,
  short-lived form token instead. The token is bound to the visitor (client network and browser,
  hashed): a token lifted from one visitor's form cannot drive submissions from elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.signals import setting_changed
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from articles.content.models import Section
from newsletter.editions.models import Language
from sitewide import zones
from sitewide.cached_pages import render_shared, respond
from sitewide.client_ip import client_ip, limit_key

from . import conf, feedback, lifecycle
from . import signup as signups
from .addresses import keyed_hash
from .forms import PreferencesForm, SignupForm
from .models import Subscriber
from .pages import invalid_link, preferences_token, request_ip, with_subscriber
from .tokens import Purpose, TokenError, TokenExpired, make_token, read_token

EMBED_TOKEN_SALT = "newsletter.views.embed"
EMBED_TOKEN_MAX_AGE = 6 * 3600


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _request_language() -> str:
    language = (translation.get_language() or "ar")[:2]
    return language if language in Language.values else Language.ARABIC


def _generic_message() -> str:
    return _(
        "شكرًا لك. إن كان بالإمكان مراسلة هذا العنوان فستصلك رسالة خلال دقائق: افتحها واضغط زر التأكيد لإكمال الاشتراك."
    )


# The signup "done" page is the same for every submission (that is the point: it reveals
# nothing), so it is rendered once per language and path and reused; only the CSRF token of the
# footer's language form differs per request and is filled in (as articles.views does for pages).
# Rendering it was about a sixth of a signup's CPU time (bench/README.md).
_done_pages: dict[tuple[str, str], str] = {}
_DONE_PAGES_MAX = 32  # the path may carry a query string: bound what a client can make us keep


@receiver(setting_changed)
def _forget_done_pages(**kwargs: Any) -> None:
    _done_pages.clear()  # tests that change SENDER_NAME, languages...


def _done_page(request: HttpRequest) -> HttpResponse:
    if settings.DEBUG:  # templates may be edited while the dev server runs
        return render(request, "newsletter/signup_done.html", {"message": _generic_message()})
    key = (translation.get_language() or "", request.get_full_path())
    html = _done_pages.get(key)
    if html is None:
        html = render_shared("newsletter/signup_done.html", {"message": _generic_message()}, request=request)
        if len(_done_pages) < _DONE_PAGES_MAX:
            _done_pages[key] = html
    return respond(request, html)


def _chosen_topics(topics: QuerySet[Section]) -> list[Section]:
    # No box ticked gives queryset.none(): skip compiling and "running" an empty query.
    return [] if topics.query.is_empty() else list(topics)


def _submit(request: HttpRequest, form: SignupForm, *, source: str) -> None:
    data = form.cleaned_data
    signups.subscribe(
        email=data["email"],
        frequency=data["frequency"],
        topics=_chosen_topics(data["topics"]),
        language=_request_language(),
        source=source,
        name=data.get("name", ""),
        ip=request_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        honeypot=data.get("website", ""),
        time_zone=data.get("time_zone", ""),
        alerts=data.get("alerts", False),
        defer_known=True,  # a known address costs the request what a new one costs (issue 23)
    )


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "newsletter/signup.html", {"form": SignupForm()})
    form = SignupForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
        return render(request, "newsletter/signup.html", {"form": form}, status=400)
    _submit(request, form, source=form.cleaned_data.get("source") or Subscriber.Source.FORM)
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": _generic_message()})
    return _done_page(request)


def _embed_headers(response: HttpResponse) -> HttpResponse:
    origins = conf.settings().SIGNUP_ALLOWED_ORIGINS
    ancestors = " ".join(["'self'", *origins]) if origins else "*"
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def _embed_visitor(request: HttpRequest) -> str:
    """Who the embed form's token was made for: the client's network (sitewide.client_ip) and
    browser, hashed with HASH_KEY (no address in the token)."""
    ip = client_ip(request.META)
    return keyed_hash(f"{limit_key(ip) if ip else ''}\n{request.headers.get('User-Agent', '')}", purpose="embed")[:32]


@xframe_options_exempt
@csrf_exempt
@require_http_methods(["GET", "POST"])
def embed(request: HttpRequest) -> HttpResponse:
    """Minimal RTL signup form for an iframe on another site (WordPress, custom CMS)."""
    visitor = _embed_visitor(request)
    context: dict[str, Any] = {"embed_token": signing.TimestampSigner(salt=EMBED_TOKEN_SALT).sign(visitor)}
    if request.method == "GET":
        context["form"] = SignupForm()
        return _embed_headers(render(request, "newsletter/embed.html", context))
    form = SignupForm(request.POST)
    try:
        made_for = signing.TimestampSigner(salt=EMBED_TOKEN_SALT).unsign(
            request.POST.get("embed_token", ""), max_age=EMBED_TOKEN_MAX_AGE
        )
        if made_for != visitor:
            raise signing.BadSignature("the token was made for another visitor")
    except signing.BadSignature:
        form.is_valid()
        form.add_error(None, _("انتهت صلاحية النموذج. أعد المحاولة."))
        context["form"] = form
        return _embed_headers(render(request, "newsletter/embed.html", context, status=400))
    if not form.is_valid():
        context["form"] = form
        return _embed_headers(render(request, "newsletter/embed.html", context, status=400))
    _submit(request, form, source=Subscriber.Source.EMBED)
    context.update(form=None, message=_generic_message())
    return _embed_headers(render(request, "newsletter/embed.html", context))


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber_uuid = read_token(token, Purpose.CONFIRM)
    except TokenExpired:
        return render(request, "newsletter/confirm_expired.html", {"token": token}, status=410)
    except TokenError:
        return invalid_link(request)
    if request.method == "GET":
        # Show a button only: link scanners GET every URL and must not confirm anything.
        status = Subscriber.objects.filter(uuid=subscriber_uuid).values_list("status", flat=True).first()
        if status is None:
            return invalid_link(request)
        return render(request, "newsletter/confirm.html", {"token": token, "status": status})
    outcome = lifecycle.confirm(subscriber_uuid=subscriber_uuid, ip=request_ip(request))
    if outcome is lifecycle.ConfirmOutcome.UNKNOWN:
        return invalid_link(request)
    subscriber = Subscriber.objects.get(uuid=subscriber_uuid)
    return render(
        request,
        "newsletter/confirmed.html",
        {
            "outcome": outcome.value,
            "preferences_url": reverse("newsletter:preferences", kwargs={"token": preferences_token(subscriber)}),
        },
    )


@require_POST
def confirm_resend(request: HttpRequest, token: str) -> HttpResponse:
    """Expired confirmation link: send a fresh one (if still pending and within the limits)."""
    try:
        subscriber_uuid = read_token(token, Purpose.CONFIRM, allow_expired=True)
    except TokenError:
        return invalid_link(request)
    lifecycle.resend_confirmation(subscriber_uuid=subscriber_uuid)
    return render(
        request,
        "newsletter/message.html",
        {
            "title": _("أرسلنا رابطًا جديدًا"),
            "body": _("إن كان اشتراكك ما يزال بانتظار التأكيد فستصلك رسالة جديدة فيها رابط صالح."),
        },
    )


@require_http_methods(["GET", "POST"])
@with_subscriber(Purpose.PREFERENCES)
def preferences(request: HttpRequest, token: str, subscriber: Subscriber) -> HttpResponse:
    saved = False
    initial = {
        "frequency": subscriber.frequency,
        "language": subscriber.language,
        "topics": list(subscriber.topics.values_list("pk", flat=True)),
        "time_zone": zones.canonical(subscriber.time_zone),
        "personal_order": subscriber.personal_order,
        "alerts": subscriber.alerts,
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    personal = conf.settings().DIGEST_PERSONAL
    if not personal:
        del form.fields["personal_order"]
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                lifecycle.update_preferences(
                    subscriber=subscriber,
                    frequency=form.cleaned_data["frequency"],
                    topics=list(form.cleaned_data["topics"]),
                    language=form.cleaned_data["language"],
                    time_zone=form.cleaned_data.get("time_zone", ""),
                    personal_order=form.cleaned_data["personal_order"] if personal else None,
                    alerts=form.cleaned_data["alerts"],
                )
                saved = True
            except lifecycle.PreferencesClosed:
                status = 409
    return render(
        request,
        "newsletter/preferences.html",
        {
            "form": form,
            "subscriber_status": subscriber.status,
            "subscriber_email": subscriber.email,
            "saved": saved,
            "unsubscribe_token": make_token(subscriber.uuid, Purpose.UNSUBSCRIBE),
            "token": token,
            # What the reader asked for less of ("less like this", issue 27), each with its undo.
            "less_of": feedback.less_list(subscriber_id=subscriber.pk, language=translation.get_language()),
            "lifted": request.GET.get("lifted") == "1",
        },
        status=status,
    )


@require_POST
@with_subscriber(Purpose.PREFERENCES)
def less_undo(request: HttpRequest, token: str, subscriber: Subscriber, kind: str, target_id: int) -> HttpResponse:
    """Undo one "less like this" from the preference center, then show the page again."""
    if kind not in feedback.Kind.values or target_id >= 2**63:  # a bigint column: a longer number is no mark
        return invalid_link(request)
    feedback.lift(subscriber_id=subscriber.pk, kind=kind, target_id=target_id)
    response = HttpResponse(status=303)
    response["Location"] = reverse("newsletter:preferences", kwargs={"token": token}) + "?lifted=1"
    return response
