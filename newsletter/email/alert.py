"""A breaking-news alert's email (newsletter.alerts): one article, short, right to left: the
"عاجل" label, its headline, image, summary and a button to read it, then a footer that says why
the reader gets it and offers to stop alerts only. Rendered once per language for the whole
alert, per-recipient values as merge fields, like a digest segment (newsletter.email.render).

The story is built by the digest's own `build_stories` (the same image, summary and tracked
click link), so alerts' clicks are counted and reported like a digest story's (position 1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from articles.content.models import Article
from newsletter.editions.models import Digest

from .render import ARABIC_BLOCK, MERGE_FIELDS, RenderedEmail, neutral_merge_field, render_email
from .rtl import RLM, is_rtl
from .stories import STORY_LANGUAGE, build_stories


def render_alert(
    digest: Digest, article: Article, *, language: str, merge_field: Callable[[str], str] = neutral_merge_field
) -> RenderedEmail:
    stories, targets = build_stories(digest, [article], language=language, merge_field=merge_field)
    same_direction = is_rtl(language) == is_rtl(STORY_LANGUAGE)
    context = {
        "story": stories[0],
        "subject": stories[0].title,
        "rtl": is_rtl(language),
        "language": language,
        # The story's Arabic inside an English email: its own block (HTML), RLM-held lines (text).
        "arabic_block": "" if same_direction else ARABIC_BLOCK,
        "rlm": "" if same_direction else RLM,
        **{name: merge_field(name) for name in MERGE_FIELDS},
    }
    return replace(render_email("alert", context, language=language), click_targets=targets)
