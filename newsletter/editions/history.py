"""What readers of a frequency already received: the articles of the previous day's editions that
went out. Composition leaves them out unless pinned (editions.compose); the editor's page marks them
so an approved edition does not repeat stories unnoticed (newsletter.admin.digest_items)."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Digest, DigestItem

# Editions whose articles readers did not receive do not block those articles next time.
NOT_DELIVERED_STATUSES = (Digest.Status.CANCELLED, Digest.Status.SKIPPED)


def previous_editions(digest: Digest) -> QuerySet[Digest]:
    """The editions of the last day before `digest`'s that readers got: the day's scheduled
    edition (or its waves) and any edition an editor sent early that day (`number` above 1)."""
    earlier = Digest.objects.filter(frequency=digest.frequency, edition_date__lt=digest.edition_date).exclude(
        status__in=NOT_DELIVERED_STATUSES
    )
    day = earlier.order_by("-edition_date").values_list("edition_date", flat=True).first()
    return earlier.filter(edition_date=day) if day is not None else Digest.objects.none()


def previous_edition_articles(digest: Digest) -> set[int]:
    return set(
        DigestItem.objects.filter(digest__in=previous_editions(digest), removed=False).values_list(
            "article_id", flat=True
        )
    )
