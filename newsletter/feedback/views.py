"""The page a "more / less like this" link opens (GET: the question and its one button), the
POST that records the choice or undoes it, and the thank-you page (see the package docstring).
No login: the signed link is the reader's key. The page is in the reader's language."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from articles.reading import reads
from newsletter.personal import conf as personal_conf
from newsletter.subscribers.pages import preferences_token

from . import choices
from .links import FeedbackLink, Refusal, resolve


def _refused(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    pages = {
        Refusal.FORGED: (
            404,
            _("رابط غير صالح"),
            _("هذا الرابط غير صالح فلم نسجّل شيئًا. تأكد من فتحه كاملًا من رسالة النشرة."),
        ),
        Refusal.NOT_SENT: (
            404,
            _("رابط غير صالح"),
            _("هذا الرابط لا يطابق عددًا أُرسل إلى صاحبه، فلم نسجّل شيئًا."),
        ),
        Refusal.EXPIRED: (
            410,
            _("انتهت صلاحية الرابط"),
            _("هذا الرابط من عدد قديم فلم نسجّل شيئًا. استعمل الروابط في آخر عدد وصلك."),
        ),
        Refusal.PREVIEW: (
            200,
            _("رابط في معاينة"),
            _("هذا رابط في معاينة العدد أو رسالة تجربة، فلم نسجّل شيئًا."),
        ),
    }
    status, title, body = pages[refusal]
    return render(request, "newsletter/message.html", {"title": title, "body": body}, status=status)


def _page(request: HttpRequest, link: FeedbackLink, *, state: str) -> HttpResponse:
    article = link.article
    language = link.subscriber.language
    context = {
        "state": state,  # ask | thanks | undone
        "choice": link.choice,
        "title": " ".join(article.title.split()),
        "section": article.section.name_in(language) if article.section else "",
        "tags": [tag.name.replace("_", " ") for tag in article.tags.all()],
        "preferences_token": preferences_token(link.subscriber),
        # The choice is kept either way; it orders nothing while personal order is off.
        "personal_on": personal_conf.enabled() and link.subscriber.personal_order,
    }
    return render(request, "newsletter/feedback.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def feedback_view(request: HttpRequest, story: str, choice: str, token: str) -> HttpResponse:
    found = resolve(story=story, choice=choice, token=token, now=timezone.now())
    if isinstance(found, Refusal):
        return _refused(request, found)
    with translation.override(found.subscriber.language):
        if request.method == "POST" and reads.should_count_meta("POST", request.META):
            if request.POST.get("action") == "undo":
                choices.withdraw(found)
                return _page(request, found, state="undone")
            choices.choose(found, now=timezone.now())
            return _page(request, found, state="thanks")
        already = choices.current(found) == found.choice
        return _page(request, found, state="thanks" if already else "ask")
