"""Editor curation of a draft or approved edition: order, pins, removals, added articles, texts,
approval. Every edit locks the edition row and requires an editable status
(newsletter.editions.state.lock_editable), so two tabs or a double click never change an
edition twice nor change it while it is being sent. The admin saves through these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.content.models import Article
from articles.reading.ranking import readers_in_window
from sitewide.dates import digits

from . import conf, history, state
from .models import Digest, DigestItem


def active_items(digest: Digest) -> list[DigestItem]:
    return list(digest.items.filter(removed=False).select_related("article").order_by("position", "id"))


def _renumber(digest: Digest, ordered: Sequence[DigestItem]) -> None:
    # Positions count from 1: they are what editors see and type on the edition page.
    for position, item in enumerate(ordered, start=1):
        item.position = position
    DigestItem.objects.bulk_update(list(ordered), ["position"])
    Digest.objects.filter(pk=digest.pk).update(updated_at=timezone.now())


def _item(digest: Digest, article_id: int) -> DigestItem:
    item = digest.items.filter(article_id=article_id).first()
    if item is None:
        raise state.DigestError(_("المقال ليس في هذا العدد."))
    return item


def pin(*, digest_id: int, article_id: int) -> None:
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(pinned=True, removed=False)


def set_for_everyone(*, digest_id: int, article_id: int, for_everyone: bool) -> None:
    """A pin for every segment (`for_everyone`) or only for readers of the story's section.
    Setting it pins the story: the choice only means something for a pinned story."""
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        changes: dict[str, bool] = {"for_everyone": for_everyone}
        if for_everyone:
            changes.update(pinned=True, removed=False)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(**changes)
        Digest.objects.filter(pk=digest.pk).update(updated_at=timezone.now())


def unpin(*, digest_id: int, article_id: int) -> None:
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(pinned=False)


def remove(*, digest_id: int, article_id: int) -> None:
    """Take an article out; the row stays (removed) so a recomposition does not bring it back."""
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(removed=True, pinned=False)
        _renumber(digest, active_items(digest))


def add_article(*, digest_id: int, article_id: int) -> DigestItem:
    """Add an article at the end, pinned so a recomposition keeps it (also undoes a removal)."""
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        if not Article.objects.filter(pk=article_id).exists():
            raise state.DigestError(_("المقال غير موجود."))
        end = digest.items.filter(removed=False).aggregate(end=Max("position"))["end"]
        item, _created = DigestItem.objects.update_or_create(
            digest=digest,
            article_id=article_id,
            defaults={"pinned": True, "removed": False, "position": 1 if end is None else end + 1},
        )
        Digest.objects.filter(pk=digest.pk).update(updated_at=timezone.now())
        return item


def move(*, digest_id: int, item_id: int, offset: int) -> None:
    """Move an item up (offset -1) or down (+1) among the active items."""
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        ordered = active_items(digest)
        index = next((i for i, item in enumerate(ordered) if item.pk == item_id), None)
        if index is None:
            raise state.DigestError(_("المادة ليست في هذا العدد."))
        target = min(max(index + offset, 0), len(ordered) - 1)
        ordered.insert(target, ordered.pop(index))
        _renumber(digest, ordered)


def set_positions(*, digest_id: int, item_ids: Sequence[int]) -> None:
    """Order the active items as `item_ids` (any active item not listed keeps its turn after)."""
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        ordered = active_items(digest)
        by_id = {item.pk: item for item in ordered}
        unknown = [pk for pk in item_ids if pk not in by_id]
        if unknown:
            raise state.DigestError(_("مواد ليست في هذا العدد: %(ids)s") % {"ids": unknown})
        listed = [by_id[pk] for pk in dict.fromkeys(item_ids)]
        _renumber(digest, listed + [item for item in ordered if item.pk not in set(item_ids)])


def set_texts(
    *,
    digest_id: int,
    subject: str | None = None,
    preheader: str | None = None,
    intro: str | None = None,
    intro_en: str | None = None,
) -> None:
    """The edition's texts; an intro (Arabic, or the English segment's) keeps its paragraphs."""
    texts = (("subject", subject), ("preheader", preheader), ("intro", intro), ("intro_en", intro_en))
    changes: dict[str, Any] = {
        name: value.strip() if name.startswith("intro") else " ".join(value.split())
        for name, value in texts
        if value is not None
    }
    with transaction.atomic():
        digest = state.lock_editable(digest_id)
        Digest.objects.filter(pk=digest.pk).update(**changes, updated_at=timezone.now())


def approve(digest: Digest, user: Any) -> bool:
    """draft -> approved, once: True only for the call that made the transition."""
    count = digest.items.filter(removed=False).count()
    if count < conf.settings().DIGEST_MIN_STORIES:
        raise state.DigestError(
            _("لا يمكن اعتماد العدد: قصصه %(count)s والحد الأدنى %(minimum)s")
            % {"count": digits(count), "minimum": digits(conf.settings().DIGEST_MIN_STORIES)}
        )
    changed = state.apply(state.Transition.APPROVE, digest_id=digest.pk, approved_by=user, approved_at=timezone.now())
    digest.refresh_from_db()
    return bool(changed)


def unapprove(digest: Digest) -> bool:
    """approved -> draft (to recompose it), only while nothing has been sent."""
    changed = state.apply(state.Transition.UNAPPROVE, digest_id=digest.pk, approved_by=None, approved_at=None)
    digest.refresh_from_db()
    return bool(changed)


@dataclass(frozen=True)
class StoryFacts:
    """What the editor's story row shows besides the article: distinct readers in the edition's
    window (live, as the ranking counts them) and whether the story went out in the previous
    edition."""

    readers: int
    in_previous: bool


def story_facts(digest: Digest, *, items: Sequence[DigestItem] | None = None) -> dict[int, StoryFacts]:
    """Per article id of the edition's items, in two queries whatever the number of stories
    (three with a previous edition). `items`: the edition's rows when the caller has them
    already (the admin's story rows), which saves reading them again."""
    article_ids = (
        [item.article_id for item in items]
        if items is not None
        else list(digest.items.values_list("article_id", flat=True))
    )
    # Live, as the ranking counts them (Redis for the days it holds): right after `make run` the
    # rows showed 0 until the first roll-up, five minutes later (issue 22).
    readers = readers_in_window(digest.period_start, digest.period_end, article_ids)
    previous = history.previous_edition_articles(digest)
    return {pk: StoryFacts(readers=readers.get(pk) or 0, in_previous=pk in previous) for pk in article_ids}


def repeated_unpinned(
    digest: Digest, facts: dict[int, StoryFacts], *, items: Sequence[DigestItem] | None = None
) -> list[DigestItem]:
    """Active, unpinned items that were in the previous edition (the page warns about them).
    `items`: the edition's rows if the caller has them (any order; removed ones are skipped)."""
    rows = active_items(digest) if items is None else sorted((i for i in items if not i.removed), key=_order)
    return [
        item for item in rows if not item.pinned and facts.get(item.article_id) and facts[item.article_id].in_previous
    ]


def _order(item: DigestItem) -> tuple[int, int]:
    return (item.position, item.pk)
