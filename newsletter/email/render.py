"""Render an edition's email (subject, plain text, HTML) once per segment, and the pieces of an
edition shared with the web archive (story view models, Arabic dates, the generated subject).

CONTRACT (the sending pipeline relies on it):
- `render_digest(digest, segment, merge_field=...)` renders for one (language, topics) segment
  and returns None when the segment has fewer than DIGEST_MIN_STORIES stories.
- Per-recipient values appear in subject/text/HTML only as `merge_field(name)` for the names in
  MERGE_FIELDS, so one rendering serves every recipient of the segment: an ESP batch substitutes
  them (anymail merge_data), the per-recipient path substitutes them with `merge()`.

Also exposed for other emails (confirmation, ...): `render_email(name, context, language=...)`
renders `newsletter/email/<name>.{subject.txt,txt,html}` with the same rules (CSS inlined by
css-inline with only @media rules left in <style>, RLM before Latin-led lines of RTL text).

Email rules applied here (docs/EMAIL.md): an English segment gets its own templates
(`digest.en.*`, "their language's template") rendered left to right; Latin runs inside Arabic
text are wrapped in `<span dir="ltr">`; a subject or text line that starts with a Latin letter,
a digit or a URL gets a leading RLM (U+200F).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import css_inline
from django.conf import settings
from django.template.loader import select_template
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString

from ..analytics.links import click_url
from ..models import Digest, DigestItem, Frequency
from .rtl import arabic_digits, format_date, is_rtl, ltr_runs, text_with_rlm, with_rlm
from .site import absolute_url, with_utm

MERGE_FIELDS: tuple[str, ...] = ("unsubscribe_url", "preferences_url", "click_token")

# Only @media rules (small screens, prefers-color-scheme) survive in <style>; everything else is
# inlined because Gmail and others drop or cap <style>. One inliner instance is reused: building it
# is cheap but not free, and it is thread-safe.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


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


@dataclass(frozen=True)
class Story:
    """One article as shown in an email or on the archive page (no per-recipient data)."""

    position: int
    number: str  # the position as the reader's digits ("٣" in Arabic)
    title: str
    title_html: SafeString  # escaped, Latin runs wrapped in <span dir="ltr"> for RTL languages
    summary: str
    summary_html: SafeString
    url: str  # absolute, with the configured UTM parameters
    image_src: str  # absolute, or "" when the article has no image
    image_alt: str
    section: str
    hashtags: tuple[str, ...]  # display names, without "#"


def neutral_merge_field(name: str) -> str:
    """The placeholder used when we substitute values ourselves (non-batch backends)."""
    return f"[[{name}]]"


# --- Text direction helpers -----------------------------------------------------------------

# A run of Latin words (letters, digits, URL and name punctuation) separated by single spaces.
SUBJECT_MAX = 150


def default_subject(digest: Digest, top_title: str, *, language: str) -> str:
    """The generated subject: "الأكثر قراءة: الأحد ٢٩ نوفمبر — <top headline>"."""
    day = format_date(digest.edition_date, language=language, with_year=False)
    if language.startswith("ar"):
        prefix = "الأكثر قراءة هذا الأسبوع" if digest.frequency == Frequency.WEEKLY else "الأكثر قراءة"
    else:
        prefix = "This week's most read" if digest.frequency == Frequency.WEEKLY else "Most read"
    subject = f"{prefix}: {day} — {top_title}".strip()
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


# --- Stories ----------------------------------------------------------------------------------


def campaign_name(digest: Digest) -> str:
    return f"{digest.frequency}-{digest.edition_date:%Y-%m-%d}"


def segment_items(digest: Digest, segment: Segment) -> list[DigestItem]:
    """The segment's items in order: one query, plus one for all their hashtags."""
    items = (
        digest.items.filter(removed=False)
        .select_related("article", "article__section")
        .prefetch_related("article__tags")
        .order_by("position", "id")
    )
    if segment.section_ids:
        items = items.filter(article__section_id__in=segment.section_ids)
    return list(items[: settings.DIGEST_TOP_N])


def build_stories(
    digest: Digest, items: Iterable[DigestItem], *, language: str, merge_field: Callable[[str], str] | None = None
) -> list[Story]:
    """With `merge_field` (an email), story links go through the first-party click redirect."""
    campaign = campaign_name(digest)
    stories = []
    for number, item in enumerate(items, start=1):
        article = item.article
        url = article.canonical_url or absolute_url(article.get_absolute_url())
        title = " ".join(article.title.split())
        summary = " ".join(article.summary.split())
        stories.append(
            Story(
                position=number,
                number=arabic_digits(number) if language.startswith("ar") else str(number),
                title=title,
                title_html=ltr_runs(title, language=language),
                summary=summary,
                summary_html=ltr_runs(summary, language=language),
                url=with_utm(url, campaign=campaign)
                if merge_field is None
                else click_url(
                    digest_id=digest.pk,
                    article_id=article.pk,
                    position=number,
                    url=with_utm(url, campaign=campaign),
                    merge_field=merge_field,
                ),
                image_src=absolute_url(article.image_src),
                image_alt=article.image_alt or title,
                section=article.section.name if article.section else "",
                hashtags=tuple(tag.name.replace("_", " ") for tag in article.tags.all()),
            )
        )
    return stories


def archive_url(digest: Digest) -> str:
    return absolute_url(
        reverse(
            "archive:detail",
            kwargs={
                "frequency": digest.frequency,
                "year": digest.edition_date.year,
                "month": digest.edition_date.month,
                "day": digest.edition_date.day,
            },
        )
    )


def digest_context(digest: Digest, stories: list[Story], *, language: str) -> dict[str, object]:
    """Everything the digest templates need except per-recipient values."""
    subject = digest.subject.strip() or default_subject(digest, stories[0].title if stories else "", language=language)
    intro = digest.intro.strip()
    preheader = digest.preheader.strip() or " · ".join(story.title for story in stories[1:4]) or subject
    return {
        "digest": digest,
        "stories": stories,
        "subject": subject,
        "preheader": preheader,
        "intro": intro,
        "intro_paragraphs": [ltr_runs(p, language=language) for p in re.split(r"\n\s*\n", intro) if p.strip()],
        "intro_text": [" ".join(p.split()) for p in re.split(r"\n\s*\n", intro) if p.strip()],
        "edition_date_display": format_date(digest.edition_date, language=language),
        "is_weekly": digest.frequency == Frequency.WEEKLY,
        "archive_url": archive_url(digest),
        "signup_url": absolute_url(reverse("newsletter:signup")),
        "site_url": settings.SITE_URL,
        "sender_name": settings.SENDER_NAME,
        "sender_address": settings.SENDER_POSTAL_ADDRESS,
        "rtl": is_rtl(language),
    }


# --- Rendering --------------------------------------------------------------------------------


def inline_css(html: str) -> str:
    """Inline every CSS rule; only @media rules (small screens, dark mode) stay in <style>."""
    return _INLINER.inline(html)


def _templates(name: str, part: str, language: str) -> list[str]:
    # "Their language's template": digest.en.html for English, digest.html (Arabic) otherwise.
    base = language.split("-")[0]
    return [f"newsletter/email/{name}.{base}.{part}", f"newsletter/email/{name}.{part}"]


def render_email(name: str, context: Mapping[str, object], *, language: str) -> RenderedEmail:
    """Render `newsletter/email/<name>.{subject.txt,txt,html}` in `language`, CSS inlined.
    The base template's footer reads `sender_name` and `sender_address` (set here by default)."""
    context = {
        "sender_name": settings.SENDER_NAME,
        "sender_address": settings.SENDER_POSTAL_ADDRESS,
        "site_url": settings.SITE_URL,
        **context,
    }
    with translation.override(language):
        subject = select_template(_templates(name, "subject.txt", language)).render(context)
        text = select_template(_templates(name, "txt", language)).render(context)
        html = select_template(_templates(name, "html", language)).render(context)
    subject = with_rlm(" ".join(subject.split()), language=language)
    text = text_with_rlm(re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", language=language)
    return RenderedEmail(subject=subject, text=text, html=inline_css(html))


def render_digest(
    digest: Digest, segment: Segment, *, merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail | None:
    items = segment_items(digest, segment)
    if len(items) < settings.DIGEST_MIN_STORIES:
        return None
    stories = build_stories(digest, items, language=segment.language, merge_field=merge_field)
    context = {
        **digest_context(digest, stories, language=segment.language),
        **{name: merge_field(name) for name in MERGE_FIELDS},
    }
    return render_email("digest", context, language=segment.language)


def merge(
    rendered: RenderedEmail, values: Mapping[str, str], merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail:
    """Substitute one recipient's values (used when the backend cannot merge)."""

    def fill(content: str) -> str:
        for name in MERGE_FIELDS:
            content = content.replace(merge_field(name), values[name])
        return content

    return RenderedEmail(subject=fill(rendered.subject), text=fill(rendered.text), html=fill(rendered.html))
