"""Who an edition of a frequency would reach, per segment (language, topics): the confirmation
step of "send now" / "schedule at" shows it, and per-segment previews (issue 12) reuse it.

The audience is what delivery.dispatch snapshots: active subscribers of the frequency. Counting
runs in the database: one GROUP BY language for subscribers without topics (all sections), and
one pass over the topic rows of the subscribers who chose topics (usually the minority), grouped
by their set of sections.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count

from articles.content.models import Section
from newsletter.editions.models import Language

from .models import Subscriber


@dataclass(frozen=True)
class SegmentAudience:
    language: str
    section_ids: tuple[int, ...]  # empty: all sections
    section_names: tuple[str, ...]
    count: int

    @property
    def language_label(self) -> str:
        return str(Language(self.language).label)


def audience_by_segment(*, frequency: str) -> list[SegmentAudience]:
    """Active subscribers of `frequency` counted per (language, topics), largest segment first."""
    audience = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE, frequency=frequency)
    counts: Counter[tuple[str, tuple[int, ...]]] = Counter()
    for row in audience.filter(topics__isnull=True).values("language").annotate(n=Count("id")).order_by():
        counts[(row["language"], ())] += row["n"]
    through = Subscriber.topics.through
    chosen: dict[tuple[int, str], list[int]] = defaultdict(list)
    rows = (
        through.objects.filter(subscriber__in=audience)
        .values_list("subscriber_id", "subscriber__language", "section_id")
        .order_by("subscriber_id", "section_id")
    )
    for subscriber_id, language, section_id in rows.iterator(chunk_size=5000):
        chosen[(subscriber_id, language)].append(section_id)
    for (_subscriber_id, language), sections in chosen.items():
        counts[(language, tuple(sections))] += 1
    names = dict(Section.objects.values_list("id", "name"))
    return [
        SegmentAudience(
            language=language,
            section_ids=sections,
            section_names=tuple(names.get(pk, str(pk)) for pk in sections),
            count=count,
        )
        for (language, sections), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
