"""A segment's stories: what a reader who follows some sections receives in an edition.

A segment (newsletter.email.render.Segment) is one language and one choice of sections. Its
stories are
- the edition's pinned stories whose section is one of the segment's (or pinned for everyone,
  `DigestItem.for_everyone`), in the editor's order; then
- the most-read stories of those sections over the edition's window
  (`articles.ranking.most_read(..., sections=...)`), leaving out what the editor removed, articles
  excluded from digests and the previous edition's stories, up to DIGEST_TOP_N;
- when that makes fewer than DIGEST_MIN_STORIES, a top-up from the edition's general list, shown
  under its own heading ("الأكثر قراءة في الموقع"), up to DIGEST_MIN_STORIES stories in all.
So an active subscriber is never left out while the edition itself goes out; only an edition
skipped as a whole (newsletter.editions.compose) sends nothing.

The all-sections segment is the edition's general list (its DigestItems) as composed. Queries
are fixed per segment: two for the general list (items, their tags), and for a topic segment
those two, two for the previous edition, most_read's (at most four) and one for the ranked
stories' tags. Rendering stays once per segment (newsletter.delivery.batch caches it).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models import prefetch_related_objects

from articles.models import Article
from articles.ranking import most_read

from ..email.render import (
    RenderedEmail,
    Segment,
    Selection,
    editor_links,
    merge,
    neutral_merge_field,
    render_digest,
)
from ..models import Digest, DigestItem
from . import history

# Editions whose stories readers did not receive do not block those stories next time.


def _items(digest: Digest) -> list[DigestItem]:
    return list(
        digest.items.select_related("article", "article__section")
        .prefetch_related("article__tags")
        .order_by("position", "id")
    )


def general_list(digest: Digest) -> list[Article]:
    """The edition's stories for readers of every section, in the editor's order."""
    items = (
        digest.items.filter(removed=False)
        .select_related("article", "article__section")
        .prefetch_related("article__tags")
        .order_by("position", "id")
    )
    return [item.article for item in items[: settings.DIGEST_TOP_N]]


def select(digest: Digest, section_ids: tuple[int, ...]) -> Selection:
    """The stories of the segment following `section_ids` (empty: every section)."""
    if not section_ids:
        return Selection(stories=tuple(general_list(digest)))
    sections = set(section_ids)
    items = _items(digest)
    general = [item.article for item in items if not item.removed][: settings.DIGEST_TOP_N]
    pinned = [
        item.article
        for item in items
        if item.pinned and not item.removed and (item.for_everyone or item.article.section_id in sections)
    ]
    blocked = {item.article_id for item in items if item.removed or item.pinned} | history.previous_edition_articles(
        digest
    )
    chosen = list(pinned)
    slots = settings.DIGEST_TOP_N - len(chosen)
    if slots > 0:
        ranked = most_read(digest.period_start, digest.period_end, slots + len(blocked) + 10, sections=section_ids)
        fresh = [article for article in ranked if article.pk not in blocked and not article.exclude_from_digests]
        prefetch_related_objects(fresh[:slots], "tags")
        chosen += fresh[:slots]
    top_up: list[Article] = []
    if len(chosen) < settings.DIGEST_MIN_STORIES:
        taken = {article.pk for article in chosen}
        top_up = [article for article in general if article.pk not in taken][
            : settings.DIGEST_MIN_STORIES - len(chosen)
        ]
    return Selection(stories=tuple(chosen), top_up=tuple(top_up))


def render(
    digest: Digest, segment: Segment, *, merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail | None:
    """The segment's email: its stories (`select`) rendered once, None when too few."""
    return render_digest(digest, segment, select(digest, segment.section_ids), merge_field=merge_field)


def preview(digest: Digest, segment: Segment) -> RenderedEmail | None:
    """The segment's email as an editor previews it (per-recipient links to the signup page):
    any language and topic choice, before approving."""
    rendered = render(digest, segment)
    return None if rendered is None else merge(rendered, editor_links())
