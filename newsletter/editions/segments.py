"""A segment's stories: what a reader who follows some sections receives in an edition.

A segment (`Segment`) is one language and one choice of sections. Its
stories are
- the edition's pinned stories whose section is one of the segment's (or pinned for everyone,
  `DigestItem.for_everyone`), in the editor's order; then
- the most-read stories of those sections over the edition's window
  (`articles.reading.ranking.most_read(..., sections=...)`), leaving out what the editor removed, articles
  excluded from digests and the previous edition's stories, up to DIGEST_TOP_N;
- when that makes fewer than DIGEST_MIN_STORIES, a top-up from the edition's general list, shown
  under its own heading ("الأكثر قراءة في الموقع"), up to DIGEST_MIN_STORIES stories in all.
So an active subscriber is never left out while the edition itself goes out; only an edition
skipped as a whole (newsletter.editions.compose) sends nothing.

The all-sections segment is the edition's general list (its DigestItems) as composed. Queries
are fixed: two per edition for the items and their tags (EditionStories loads them once for all
segments), two for the previous edition once any topic segment is selected, and per distinct
choice of sections most_read's (at most four) and one for the ranked stories' tags. Rendering
stays once per segment (newsletter.delivery.batch caches it).

Rendering a segment's email is newsletter.email.render.render_segment; the batch writes down each
segment as it is sent (newsletter.delivery.batch.record_segment), and the report gives every
segment its own story rows (newsletter.analytics.story_stats).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import prefetch_related_objects

from articles.content.models import Article
from articles.reading.ranking import most_read, readers_in_window

from . import conf, history
from .models import Digest, DigestItem


@dataclass(frozen=True)
class Segment:
    """Recipients who see the same email: one language and one topic choice."""

    language: str
    section_ids: tuple[int, ...] = ()  # sorted; empty means every section


@dataclass(frozen=True)
class Selection:
    """A segment's stories (newsletter.editions.segments.select): its own, ranked, and the
    general list's top-up shown under "الأكثر قراءة في الموقع" when its own are too few."""

    stories: tuple[Article, ...]
    top_up: tuple[Article, ...] = ()

    def __len__(self) -> int:
        return len(self.stories) + len(self.top_up)


def _items(digest: Digest) -> list[DigestItem]:
    return list(
        digest.items.select_related("article", "article__section")
        .prefetch_related("article__tags")
        .order_by("position", "id")
    )


class EditionStories:
    """One edition's stories for all its segments. What every segment shares (the items with
    their tags, the general list, the previous edition's stories) is loaded once; each choice of
    sections is ranked once, whatever the language: an edition with ten segments over five
    topic choices runs most_read five times, not ten. Built per edition and request (the
    editor's pages) or per edition version and process (newsletter.delivery.batch)."""

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self._items: list[DigestItem] | None = None
        self._blocked: set[int] | None = None
        self._selections: dict[tuple[int, ...], Selection] = {}
        self._extras: dict[tuple[tuple[int, ...], int], list[Article]] = {}
        self._readers: dict[tuple[tuple[int, ...], int], dict[int, int]] = {}

    @property
    def items(self) -> list[DigestItem]:
        if self._items is None:
            self._items = _items(self.digest)
        return self._items

    def general(self) -> list[Article]:
        return [item.article for item in self.items if not item.removed][: conf.settings().DIGEST_TOP_N]

    def blocked(self) -> set[int]:
        """What a topic segment's ranking leaves out: the editor's removals and pins (pins are
        placed first), and the previous edition's stories."""
        if self._blocked is None:
            self._blocked = {
                item.article_id for item in self.items if item.removed or item.pinned
            } | history.previous_edition_articles(self.digest)
        return self._blocked

    def select(self, section_ids: tuple[int, ...]) -> Selection:
        """The stories of the segment following `section_ids` (empty: every section)."""
        selection = self._selections.get(section_ids)
        if selection is None:
            selection = self._selections[section_ids] = self._select(section_ids)
        return selection

    def _select(self, section_ids: tuple[int, ...]) -> Selection:
        general = self.general()
        if not section_ids:
            return Selection(stories=tuple(general))
        sections = set(section_ids)
        chosen = [
            item.article
            for item in self.items
            if item.pinned and not item.removed and (item.for_everyone or item.article.section_id in sections)
        ]
        slots = conf.settings().DIGEST_TOP_N - len(chosen)
        if slots > 0:
            digest, blocked = self.digest, self.blocked()
            ranked = most_read(digest.period_start, digest.period_end, slots + len(blocked) + 10, sections=section_ids)
            fresh = [article for article in ranked if article.pk not in blocked and not article.exclude_from_digests]
            prefetch_related_objects(fresh[:slots], "tags")
            chosen += fresh[:slots]
        top_up: list[Article] = []
        if len(chosen) < conf.settings().DIGEST_MIN_STORIES:
            taken = {article.pk for article in chosen}
            top_up = [article for article in general if article.pk not in taken][
                : conf.settings().DIGEST_MIN_STORIES - len(chosen)
            ]
        return Selection(stories=tuple(chosen), top_up=tuple(top_up))

    def pool(self, section_ids: tuple[int, ...], *, extra: int) -> tuple[list[Article], set[int], dict[int, int]]:
        """The segment's candidates for a reader's own list (newsletter.personal): its stories
        (pins first) then up to `extra` more of its most-read stories, never one the editor
        removed or excluded nor one the previous edition had; which of them are pinned; and each
        one's readers in the edition's window. A reader who read some of the segment's stories
        gets the next ones instead."""
        own = list(self.select(section_ids).stories)
        pinned = {item.article_id for item in self.items if item.pinned and not item.removed}
        key = (section_ids, extra)
        more = self._extras.get(key)
        if more is None:
            digest, blocked = self.digest, self.blocked()
            taken = {article.pk for article in own}
            ranked = most_read(
                digest.period_start,
                digest.period_end,
                len(own) + len(blocked) + extra + 10,
                sections=section_ids or None,
            )
            more = [
                article
                for article in ranked
                if article.pk not in blocked and article.pk not in taken and not article.exclude_from_digests
            ][:extra]
            prefetch_related_objects(more, "tags")
            readers = readers_in_window(digest.period_start, digest.period_end, [a.pk for a in own + more])
            self._extras[key] = more
            self._readers[key] = readers
        return own + more, pinned & {article.pk for article in own}, self._readers[key]


def select(digest: Digest, section_ids: tuple[int, ...]) -> Selection:
    """The stories of one segment (several segments of an edition: use one EditionStories)."""
    return EditionStories(digest).select(section_ids)
