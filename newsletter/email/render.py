"""Render an edition's email (subject, plain text, HTML) once per segment, and the pieces of an
edition shared with the web archive (story view models, Arabic dates, the generated subject).

CONTRACT (the sending pipeline relies on it):
- `render_digest(digest, segment, selection, merge_field=...)` renders for one (language, topics)
  segment the stories `selection` holds (newsletter.editions.segments chooses them: a topic
  segment's own most-read stories, topped up from the general list under its own heading) and
  returns None when there are fewer than DIGEST_MIN_STORIES in all. Without a selection it
  renders the edition's general list (the all-sections segment).
- Per-recipient values appear in subject/text/HTML only as `merge_field(name)` for the names in
  MERGE_FIELDS, so one rendering serves every recipient of the segment: an ESP batch substitutes
  them (anymail merge_data), the per-recipient path substitutes them with `merge()`.
- Rendering is pure (no Redis, no writes): with first-party click tracking the story links go
  through the click redirect, and the rendered email carries where they lead
  (`RenderedEmail.click_targets`, article id -> URL). Whoever sends or shows the email stores
  them first (newsletter.clicks.targets.remember_targets), so a link's target is known before
  any email with it can leave.

Also exposed for other emails (confirmation, ...): `render_email(name, context, language=...)`
renders `newsletter/email/<name>.{subject.txt,txt,html}` with the same rules (CSS inlined by
css-inline with only @media rules left in <style>, RLM before Latin-led lines of RTL text).

Email rules applied here (docs/EMAIL.md): an English segment gets its own templates
(`digest.en.*`, "their language's template") rendered left to right, with its own intro
(`Digest.intro_en`; empty: none) and the sections' English names; the stories' own text is
Arabic (STORY_LANGUAGE) whatever the segment, so in an English email each title, summary and
hashtag line is an Arabic block (dir, lang, alignment) and in its text part a line held right to
left by RLMs; Latin runs inside Arabic text are wrapped in `<span dir="ltr">`; a subject or text
line that starts with a Latin letter, a digit or a URL gets a leading RLM (U+200F).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import css_inline
from django.conf import settings
from django.template.loader import select_template
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString

from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, Frequency
from newsletter.editions.segments import EditionStories, Segment, Selection
from sitewide import conf as site_conf
from sitewide.mail_merge import inert_text

from .links import PREVIEW_RECIPIENT, absolute_url, archive_url
from .rtl import (
    RLM,
    dateline,
    format_date,
    is_rtl,
    ltr_runs,
    semicolon,
    text_with_rlm,
    with_rlm,
)
from .stories import (
    STORY_LANGUAGE,
    Story,
    StoryCache,
    build_stories,
    general_items,
    story_block,
    story_text_block,
)

MERGE_FIELDS: tuple[str, ...] = ("unsubscribe_url", "preferences_url", "click_token")
# Where an email's own direction is not the stories': what makes an element an Arabic block.
ARABIC_BLOCK = SafeString(' dir="rtl" lang="ar" style="direction:rtl;text-align:right"')

# Only @media rules (small screens, prefers-color-scheme) survive in <style>; everything else is
# inlined because Gmail and others drop or cap <style>. One inliner instance is reused: building it
# is cheap but not free, and it is thread-safe.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    # The click redirect's targets of the story links in it (article id -> URL with UTM), for the
    # caller to store before the email is sent or shown; empty without first-party click links.
    click_targets: Mapping[int, str] = field(default_factory=dict)


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


def digest_context(
    digest: Digest, stories: list[Story], *, language: str, top_up: list[Story] | None = None
) -> dict[str, object]:
    """Everything the digest templates need except per-recipient values. The first story is the
    lead (shown with its image); `top_up` are the general list's stories shown under their own
    heading after a topic segment's own."""
    # The editor's texts carry no mail-merge placeholder (sitewide.mail_merge); story titles
    # are inert already.
    subject = inert_text(digest.subject.strip()) or default_subject(
        digest, stories[0].title if stories else "", language=language
    )
    intro = inert_text((digest.intro if language.startswith("ar") else digest.intro_en).strip())
    titles = semicolon(language=language).join(story.title for story in stories[1:4])
    preheader = inert_text(digest.preheader.strip()) or titles or subject
    stories_read_as_email = is_rtl(language) == is_rtl(STORY_LANGUAGE)
    arabic_block = "" if stories_read_as_email else ARABIC_BLOCK
    rlm = "" if stories_read_as_email else RLM
    blocks = [
        story_block(story, lead=index == 0, language=language, arabic_block=arabic_block)
        for index, story in enumerate(stories)
    ]
    top_up_blocks = [
        story_block(story, lead=False, language=language, arabic_block=arabic_block) for story in top_up or []
    ]
    return {
        "digest": digest,
        "stories": stories,
        "lead": stories[0] if stories else None,
        "more_stories": stories[1:],
        "top_up": top_up or [],
        "subject": subject,
        "preheader": preheader,
        "intro": intro,
        "intro_paragraphs": [ltr_runs(p, language=language) for p in re.split(r"\n\s*\n", intro) if p.strip()],
        "intro_text": [" ".join(p.split()) for p in re.split(r"\n\s*\n", intro) if p.strip()],
        "edition_date_display": dateline(digest.edition_date, language=language),
        "is_weekly": digest.frequency == Frequency.WEEKLY,
        "archive_url": archive_url(digest),
        "signup_url": absolute_url(reverse("newsletter:signup")),
        "site_url": settings.SITE_URL,
        "sender_name": site_conf.site().SENDER_NAME,
        "sender_address": site_conf.site().SENDER_POSTAL_ADDRESS,
        "rtl": is_rtl(language),
        "language": language,
        # The stories' Arabic inside an English email: blocks of their own (HTML), RLM-held lines (text).
        "arabic_block": arabic_block,
        # Each story's HTML, rendered once per process (`story_block`): the personal lists of an
        # edition share their stories, each list only puts them in its own order.
        "story_blocks": blocks,
        "top_up_blocks": top_up_blocks,
        "story_text_blocks": [story_text_block(story, language=language, rlm=rlm) for story in stories],
        "top_up_text_blocks": [
            story_text_block(story, language=language, rlm=rlm, top_up=True) for story in top_up or []
        ],
        "rlm": rlm,
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
    The base template's footer reads `sender_name`, `sender_address` and `privacy_url` (the
    absolute PRIVACY_POLICY_URL, empty for none), set here by default."""
    context = {
        "sender_name": site_conf.site().SENDER_NAME,
        "sender_address": site_conf.site().SENDER_POSTAL_ADDRESS,
        "site_url": settings.SITE_URL,
        "privacy_url": absolute_url(site_conf.site().PRIVACY_POLICY_URL),
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
    digest: Digest,
    segment: Segment,
    selection: Selection | None = None,
    *,
    merge_field: Callable[[str], str] = neutral_merge_field,
    cache: StoryCache | None = None,
) -> RenderedEmail | None:
    if selection is None:
        if segment.section_ids:
            # Filtering the general list left topic readers with nothing (issue 12).
            raise ValueError("a topic segment's stories come from newsletter.editions.segments.select")
        selection = Selection(stories=tuple(item.article for item in general_items(digest)))
    if len(selection) < editions_conf.settings().DIGEST_MIN_STORIES:
        return None
    language = segment.language
    stories, targets = build_stories(digest, selection.stories, language=language, merge_field=merge_field, cache=cache)
    top_up, top_up_targets = build_stories(
        digest,
        selection.top_up,
        language=language,
        merge_field=merge_field,
        first_position=len(stories) + 1,
        cache=cache,
    )
    context = {
        **digest_context(digest, stories, language=language, top_up=top_up),
        **{name: merge_field(name) for name in MERGE_FIELDS},
    }
    rendered = render_email("digest", context, language=segment.language)
    return replace(rendered, click_targets={**targets, **top_up_targets})


def editor_links() -> dict[str, str]:
    """Per-recipient values for an editor's preview: an editor is not a subscriber, so the
    links point at the public signup page."""
    values = dict.fromkeys(MERGE_FIELDS, absolute_url(reverse("newsletter:signup")))
    values["click_token"] = PREVIEW_RECIPIENT  # story links lead to the story, counting nothing
    return values


def merge(
    rendered: RenderedEmail, values: Mapping[str, str], merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail:
    """Substitute one recipient's values (used when the backend cannot merge)."""

    def fill(content: str) -> str:
        for name in MERGE_FIELDS:
            content = content.replace(merge_field(name), values[name])
        return content

    return RenderedEmail(
        subject=fill(rendered.subject),
        text=fill(rendered.text),
        html=fill(rendered.html),
        click_targets=rendered.click_targets,
    )


def render_segment(
    stories: EditionStories, segment: Segment, *, merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail | None:
    """A segment's email: its stories (`EditionStories.select`) rendered once, None when too few."""
    return render_digest(stories.digest, segment, stories.select(segment.section_ids), merge_field=merge_field)


def preview_segment(stories: EditionStories, segment: Segment) -> RenderedEmail | None:
    """The segment's email as an editor previews it (per-recipient links to the signup page):
    any language and topic choice, before approving."""
    rendered = render_segment(stories, segment)
    return None if rendered is None else merge(rendered, editor_links())
