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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import css_inline
from django.conf import settings
from django.template.loader import select_template
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString

from articles.content.models import Article
from articles.content.urls_safety import safe_http_url
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, DigestItem, Frequency
from newsletter.editions.segments import EditionStories, Segment, Selection
from sitewide import conf as site_conf
from sitewide.mail_merge import inert_text, inert_url

from . import conf
from .links import PREVIEW_RECIPIENT, absolute_url, archive_url, campaign_name, tracked_link, with_utm
from .rtl import (
    RLM,
    dateline,
    digits,
    format_date,
    is_rtl,
    ltr_runs,
    semicolon,
    text_with_rlm,
    with_rlm,
)

MERGE_FIELDS: tuple[str, ...] = ("unsubscribe_url", "preferences_url", "click_token")
# The language the stories are written in (titles, summaries, hashtags): the site's.
STORY_LANGUAGE = settings.LANGUAGE_CODE
# Where an email's own direction is not the stories': what makes an element an Arabic block.
ARABIC_BLOCK = SafeString(' dir="rtl" lang="ar" style="direction:rtl;text-align:right"')

# Only @media rules (small screens, prefers-color-scheme) survive in <style>; everything else is
# inlined because Gmail and others drop or cap <style>. One inliner instance is reused: building it
# is cheap but not free, and it is thread-safe.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Hashtag:
    name: str  # display name, without "#"
    url: str  # absolute URL of the tag page


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    # The click redirect's targets of the story links in it (article id -> URL with UTM), for the
    # caller to store before the email is sent or shown; empty without first-party click links.
    click_targets: Mapping[int, str] = field(default_factory=dict)


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
    section: str  # in the reader's language when the section has a name in it
    hashtags: tuple[Hashtag, ...]
    # The lead story's image box: width is the column's; height only when the image's size is
    # known (set both and the email keeps its layout while images load).
    image_width: int = 552
    image_height: int | None = None
    section_lang: str = STORY_LANGUAGE  # the language `section` is written in


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


def general_items(digest: Digest) -> list[DigestItem]:
    """The edition's general list (every section) in order: one query, plus one for all their
    hashtags. A topic segment's stories come from newsletter.editions.segments instead."""
    items = (
        digest.items.filter(removed=False)
        .select_related("article", "article__section")
        .prefetch_related("article__tags")
        .order_by("position", "id")
    )
    return list(items[: editions_conf.settings().DIGEST_TOP_N])


def email_image(article: Article) -> tuple[str, int | None]:
    """(src, height) of an article's image in the email: the resized email copy (at most 600 px
    wide, re-encoded) when the article has one, else its image URL with an unknown height."""
    if article.email_image_url:
        return article.email_image_url, article.email_image_height or None
    return article.image_src, None


def build_stories(
    digest: Digest,
    articles: Iterable[Article],
    *,
    language: str,
    merge_field: Callable[[str], str] | None = None,
    first_position: int = 1,
) -> tuple[list[Story], dict[int, str]]:
    """The stories, and the click redirect's targets of their links (article id -> URL; empty
    unless their links are tracked). With `merge_field` (an email), story links go through the
    first-party click redirect; `first_position` keeps positions unique in an email whose top-up
    list follows its stories."""
    campaign = campaign_name(digest)
    # With first-party tracking off, links lead straight to the story (ESP click events count).
    tracked_field = merge_field if conf.settings().ANALYTICS_CLICK_TRACKING else None
    targets: dict[int, str] = {}  # the click redirect's targets, returned for the caller to store
    stories = []
    for number, article in enumerate(articles, start=1):
        image_src, image_height = email_image(article)
        # A stored URL is checked again here: only http(s) ever becomes a link in an email.
        url = safe_http_url(article.canonical_url) or absolute_url(article.get_absolute_url())
        # Editors' and feeds' text and links carry no mail-merge placeholder (sitewide.mail_merge).
        title = inert_text(" ".join(article.title.split()))
        summary = inert_text(" ".join(article.summary.split()))
        link = inert_url(with_utm(url, campaign=campaign))
        if tracked_field is not None:
            targets[article.pk] = link
            link = tracked_link(
                digest_id=digest.pk,
                article_id=article.pk,
                position=first_position + number - 1,
                merge_field=tracked_field,
            )
        stories.append(
            Story(
                position=number,
                number=digits(number, language=language),
                title=title,
                title_html=ltr_runs(title, language=STORY_LANGUAGE),
                summary=summary,
                summary_html=ltr_runs(summary, language=STORY_LANGUAGE),
                url=link,
                image_src=inert_url(absolute_url(image_src)),
                image_alt=inert_text(article.image_alt) or title,
                section=inert_text(article.section.name_in(language)) if article.section else "",
                section_lang=article.section.language_of_name(language) if article.section else STORY_LANGUAGE,
                hashtags=tuple(
                    Hashtag(
                        name=inert_text(tag.name.replace("_", " ")), url=inert_url(absolute_url(tag.get_absolute_url()))
                    )
                    for tag in article.tags.all()
                ),
                image_height=image_height,
            )
        )
    return stories, targets


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
        "arabic_block": "" if stories_read_as_email else ARABIC_BLOCK,
        "rlm": "" if stories_read_as_email else RLM,
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
) -> RenderedEmail | None:
    if selection is None:
        if segment.section_ids:
            # Filtering the general list left topic readers with nothing (issue 12).
            raise ValueError("a topic segment's stories come from newsletter.editions.segments.select")
        selection = Selection(stories=tuple(item.article for item in general_items(digest)))
    if len(selection) < editions_conf.settings().DIGEST_MIN_STORIES:
        return None
    language = segment.language
    stories, targets = build_stories(digest, selection.stories, language=language, merge_field=merge_field)
    top_up, top_up_targets = build_stories(
        digest, selection.top_up, language=language, merge_field=merge_field, first_position=len(stories) + 1
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
