"""Reader-facing analytics pages: the sunset email's one-click "keep me subscribed" link.
(The click redirect's view lives beside its framework-free handler in clicks.py.)"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from articles.reading import reads
from newsletter.subscribers.tokens import Purpose, TokenError, read_token

from . import rules


def stay(request: HttpRequest, token: str) -> HttpResponse:
    """GET keeps the subscriber (one click, as the email promises). A bot or a prefetch changes
    nothing; a scanner that follows the link keeps a reader subscribed, the safe direction."""
    try:
        subscriber_uuid = read_token(token, Purpose.STAY)
    except TokenError:
        body = _("هذا الرابط غير صالح. تأكد من نسخه كاملًا من الرسالة.")
        return render(request, "newsletter/message.html", {"title": _("رابط غير صالح"), "body": body}, status=404)
    if reads.should_count(request):
        rules.record_stay(subscriber_uuid=subscriber_uuid)
    context = {"title": _("شكرًا، ستبقى مشتركًا"), "body": _("ستواصل النشرة الوصول إليك كالمعتاد.")}
    return render(request, "newsletter/message.html", context)
