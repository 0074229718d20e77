"""What an editor sees of an edition's segments before approving (issue 12): every segment of the
frequency's audience (language, topics) with its audience size and story count, the choice of
any segment (language + topics) to preview at 600 and 375 px, and the edition's waves (local
delivery time) with their times and counts. The preview view in digests.py calls these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _

from articles.content.models import Section
from newsletter.clicks import targets
from newsletter.editions import conf as editions_conf
from newsletter.editions import segments
from newsletter.editions.models import Digest, Language
from newsletter.editions.segments import Segment
from newsletter.email.render import RenderedEmail, preview_segment
from newsletter.orchestration import waves
from newsletter.subscribers import audience


@dataclass(frozen=True)
class SegmentRow:
    """One segment of the audience as the preview page lists it."""

    language: str
    language_label: str
    section_names: tuple[str, ...]
    audience: int
    stories: int  # the segment's own stories
    top_up: int  # stories from the general list under "الأكثر قراءة في الموقع"
    query: str  # the preview page's query string for this segment
    sendable: bool  # False: fewer than DIGEST_MIN_STORIES even with the top-up


@dataclass
class ChosenSegment:
    segment: Segment
    errors: list[str] = field(default_factory=list)


def segment_query(language: str, section_ids: tuple[int, ...]) -> str:
    params = {"language": language}
    if section_ids:
        params["topics"] = ",".join(str(pk) for pk in section_ids)
    return urlencode(params)


def segment_rows(stories: segments.EditionStories) -> list[SegmentRow]:
    """The frequency's audience per segment, each with the stories its email would carry."""
    rows = []
    for group in audience.audience_by_segment(frequency=stories.digest.frequency):
        selection = stories.select(group.section_ids)
        rows.append(
            SegmentRow(
                language=group.language,
                language_label=group.language_label,
                section_names=group.section_names,
                audience=group.count,
                stories=len(selection.stories),
                top_up=len(selection.top_up),
                query=segment_query(group.language, group.section_ids),
                sendable=len(selection) >= editions_conf.settings().DIGEST_MIN_STORIES,
            )
        )
    return rows


def chosen_segment(params: QueryDict) -> ChosenSegment:
    """The segment named by the preview's query string (`language`, and `topics=1,2` from a
    segment link or `topic=1&topic=2` from the chooser's checkboxes); anything unknown is
    reported and left out, so a bad link still shows a preview."""
    errors = []
    language = params.get("language") or settings.LANGUAGE_CODE
    if language not in Language.values:
        errors.append(_("لغة غير معروفة: %(value)s.") % {"value": language[:20]})
        language = settings.LANGUAGE_CODE
    raw = [part.strip() for part in (params.get("topics") or "").split(",") if part.strip()]
    raw += [part.strip() for part in params.getlist("topic") if part.strip()]
    wanted = {int(part) for part in raw if part.isdigit() and len(part) < 10}
    known = set(Section.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if any(not (part.isdigit() and len(part) < 10) for part in raw) or wanted - known:
        errors.append(_("بعض المواضيع المطلوبة غير موجودة، فلم تُحتسب."))
    return ChosenSegment(Segment(language=language, section_ids=tuple(sorted(known))), errors)


def preview_context(digest: Digest, chosen: ChosenSegment) -> dict[str, Any]:
    """The preview page's context: the chosen segment's email and stories, every segment of
    the audience, the sections to choose from, and the edition's waves."""
    segment = chosen.segment
    stories = segments.EditionStories(digest)  # shared by the chosen segment and every row
    selection = stories.select(segment.section_ids)
    rendered: RenderedEmail | None = preview_segment(stories, segment)
    if rendered is not None:  # the preview's story links redirect through these
        targets.remember_targets(digest.pk, rendered.click_targets)
    names = dict(Section.objects.filter(pk__in=segment.section_ids).values_list("pk", "name"))
    return {
        "rendered": rendered,
        "language": segment.language,
        "languages": Language.choices,
        "chosen_topics": segment.section_ids,
        "chosen_names": [names[pk] for pk in segment.section_ids],
        "chosen_stories": len(selection.stories),
        "chosen_top_up": len(selection.top_up),
        "segment_errors": chosen.errors,
        "segment_rows": segment_rows(stories),
        "sections": list(Section.objects.order_by("name").values_list("pk", "name")),
        "waves": waves.waves_of(digest),
    }
