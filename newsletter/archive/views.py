"""Public archive of the editions that went out: a paginated list, one page per edition (the
email's content in the site's RTL layout, per-recipient links replaced by the signup link) and
an RSS feed. Thin views; the stories come from newsletter.email.render like the email's."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, Frequency
from newsletter.email.links import archive_url
from newsletter.email.render import digest_context
from newsletter.email.rtl import format_date
from newsletter.email.stories import build_stories, general_items

# Editions some readers already have in their inbox ("view in browser" must work mid-send).
PUBLIC_STATUSES = (
    Digest.Status.TESTING,
    Digest.Status.WAITING,
    Digest.Status.SENDING,
    Digest.Status.PAUSED,
    Digest.Status.SENT,
)
PAGE_SIZE = 20


def public_editions() -> QuerySet[Digest]:
    """One entry per edition that went out: the curated edition when it was sent itself (an
    explicit send), else its first wave (the easternmost offset, which went out first): a day
    sent in five waves is one edition to a reader, not five (newsletter.orchestration.waves)."""
    # Breaking-news alerts are not editions of the archive: their link is the article itself.
    public = Digest.objects.filter(status__in=PUBLIC_STATUSES, frequency__in=Frequency.values)
    curated_went_out = public.filter(pk=OuterRef("wave_of"))
    earlier_wave = public.filter(wave_of=OuterRef("wave_of"), utc_offset__gt=OuterRef("utc_offset"))
    return public.filter(Q(wave_of__isnull=True) | (~Exists(curated_went_out) & ~Exists(earlier_wave))).order_by(
        "-edition_date", "-number", "frequency"
    )


def archive_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(public_editions().only("frequency", "edition_date", "subject", "status"), PAGE_SIZE)
    page_obj = page.get_page(request.GET.get("page"))
    language = translation.get_language() or settings.LANGUAGE_CODE
    editions = [
        {"digest": digest, "url": archive_url(digest), "date": format_date(digest.edition_date, language=language)}
        for digest in page_obj
    ]
    return render(request, "newsletter/archive/list.html", {"page_obj": page_obj, "editions": editions})


def archive_detail(request: HttpRequest, frequency: str, day: str, number: int = 1) -> HttpResponse:
    if frequency not in Frequency.values:
        raise Http404
    try:
        edition_date = date(*(int(part) for part in day.split("-")))
    except ValueError as exc:
        raise Http404 from exc
    if day != edition_date.isoformat():  # 2026-12-3, as emailed before dates were zero-padded
        numbered = {"number": number} if number > 1 else {}
        return redirect("archive:detail", frequency=frequency, day=edition_date, permanent=True, **numbered)
    digest = public_editions().filter(frequency=frequency, edition_date=edition_date, number=number).first()
    if digest is None:
        raise Http404
    # The archive shows the edition as the Arabic, all-sections segment received it.
    language = settings.LANGUAGE_CODE
    # No merge field: story links lead straight to the story, so there are no click targets.
    stories, _targets = build_stories(digest, [item.article for item in general_items(digest)], language=language)
    context = digest_context(digest, stories, language=language)
    return render(request, "newsletter/archive/detail.html", context)


class ArchiveFeed(Feed):
    title = _("أرشيف النشرة")
    description = _("أعداد النشرة الإخبارية: الأكثر قراءة يوميًا وأسبوعيًا.")

    def link(self) -> str:
        from django.urls import reverse

        return reverse("archive:list")

    def items(self) -> list[Digest]:
        return list(public_editions().prefetch_related("items__article")[:30])

    def item_title(self, item: Digest) -> str:
        if item.subject:
            return item.subject
        return f"{item.get_frequency_display()}: {format_date(item.edition_date, language=settings.LANGUAGE_CODE)}"

    def item_description(self, item: Digest) -> str:
        titles = [i.article.title for i in item.items.all() if not i.removed]
        return " · ".join(titles[: editions_conf.settings().DIGEST_TOP_N])

    def item_link(self, item: Digest) -> str:
        return archive_url(item)

    def item_pubdate(self, item: Digest) -> datetime | None:
        return item.sent_at or item.sending_started_at or item.period_end
