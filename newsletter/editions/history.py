"""What readers of a frequency already received: the articles of the previous day's editions that
went out, and of the day's extra editions. Composition leaves them out unless pinned (editions.compose); the editor's page marks them
so an approved edition does not repeat stories unnoticed (newsletter.admin.digest_items)."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Subquery

from .models import Digest, DigestItem

# Editions whose articles readers did not receive do not block those articles next time.
NOT_DELIVERED_STATUSES = (Digest.Status.CANCELLED, Digest.Status.SKIPPED)


def previous_editions(digest: Digest) -> QuerySet[Digest]:
    """The editions readers got before `digest`: those of the last day before its own (the day's
    scheduled edition or its waves, and any extra edition an editor sent that day), and the extra
    editions of its own day (sent before its run, e.g. "send now" at 00:10 for the 07:00 edition)."""
    went_out = Digest.objects.filter(frequency=digest.frequency).exclude(status__in=NOT_DELIVERED_STATUSES)
    # The last earlier day as a subquery: the caller's one query finds the editions and their items.
    last_day = went_out.filter(edition_date__lt=digest.edition_date).order_by("-edition_date").values("edition_date")
    same_day_extras = Q(edition_date=digest.edition_date, extra=True) & ~Q(pk=digest.pk)
    return went_out.filter(Q(edition_date=Subquery(last_day[:1])) | same_day_extras)


def previous_edition_articles(digest: Digest) -> set[int]:
    return set(
        DigestItem.objects.filter(digest__in=previous_editions(digest), removed=False).values_list(
            "article_id", flat=True
        )
    )
