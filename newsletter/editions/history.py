"""What readers of a frequency already received: the articles of the previous edition that went
out. Composition leaves them out unless pinned (editions.compose); the editor's page marks them
so an approved edition does not repeat stories unnoticed (newsletter.admin.digest_items)."""

from __future__ import annotations

from ..models import Digest

# Editions whose articles readers did not receive do not block those articles next time.
NOT_DELIVERED_STATUSES = (Digest.Status.CANCELLED, Digest.Status.SKIPPED)


def previous_edition(digest: Digest) -> Digest | None:
    return (
        Digest.objects.filter(frequency=digest.frequency, edition_date__lt=digest.edition_date)
        .exclude(status__in=NOT_DELIVERED_STATUSES)
        .order_by("-edition_date", "utc_offset")  # a day's waves carry the same stories: any one does
        .first()
    )


def previous_edition_articles(digest: Digest) -> set[int]:
    previous = previous_edition(digest)
    if previous is None:
        return set()
    return set(previous.items.filter(removed=False).values_list("article_id", flat=True))
