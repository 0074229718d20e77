"""Render an edition's email (subject, plain text, HTML) once per segment.

CONTRACT (the sending pipeline relies on it):
- `render_digest(digest, segment, merge_field=...)` renders for one (language, topics) segment
  and returns None when the segment has fewer than DIGEST_MIN_STORIES stories.
- Per-recipient values appear in subject/text/HTML only as `merge_field(name)` for the names in
  MERGE_FIELDS, so one rendering serves every recipient of the segment: an ESP batch substitutes
  them (anymail merge_data), the per-recipient path substitutes them with `merge()`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .models import Digest, DigestItem

MERGE_FIELDS: tuple[str, ...] = ("unsubscribe_url", "preferences_url")


@dataclass(frozen=True)
class Segment:
    """Recipients who see the same email: one language and one topic choice."""

    language: str
    section_ids: tuple[int, ...] = ()  # sorted; empty means every section


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def neutral_merge_field(name: str) -> str:
    """The placeholder used when we substitute values ourselves (non-batch backends)."""
    return f"[[{name}]]"


def segment_items(digest: Digest, segment: Segment) -> list[DigestItem]:
    items = (
        digest.items.filter(removed=False)
        .select_related("article", "article__section")
        .order_by("position", "id")
    )
    if segment.section_ids:
        items = items.filter(article__section_id__in=segment.section_ids)
    return list(items[: settings.DIGEST_TOP_N])


def render_digest(
    digest: Digest, segment: Segment, *, merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail | None:
    items = segment_items(digest, segment)
    if len(items) < settings.DIGEST_MIN_STORIES:
        return None
    context = {
        "digest": digest,
        "items": items,
        **{name: merge_field(name) for name in MERGE_FIELDS},
    }
    with translation.override(segment.language):
        subject = render_to_string("newsletter/email/digest.subject.txt", context).strip()
        text = render_to_string("newsletter/email/digest.txt", context)
        html = render_to_string("newsletter/email/digest.html", context)
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


def merge(rendered: RenderedEmail, values: Mapping[str, str],
          merge_field: Callable[[str], str] = neutral_merge_field) -> RenderedEmail:
    """Substitute one recipient's values (used when the backend cannot merge)."""
    def fill(content: str) -> str:
        for name in MERGE_FIELDS:
            content = content.replace(merge_field(name), values[name])
        return content

    return RenderedEmail(subject=fill(rendered.subject), text=fill(rendered.text), html=fill(rendered.html))
