"""An edition's stories as its emails show them: each article's title, summary, section,
hashtags, image and (tracked) link (`build_stories`, `Story`), and each story's HTML and plain-text
block, rendered once per process (`story_block`, `story_text_block`): a personal list of an
edition is then its stories in its own order, not another pass over every article and template
(newsletter.email.render assembles the email around them)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from articles.content.models import Article
from articles.content.urls_safety import safe_http_url
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, DigestItem
from sitewide.mail_merge import inert_text, inert_url

from . import conf
from .links import FEEDBACK_CHOICES, absolute_url, campaign_name, feedback_link, tracked_link, with_utm
from .rtl import digits, is_rtl, ltr_runs

# The language the stories are written in (titles, summaries, hashtags): the site's.
STORY_LANGUAGE = settings.LANGUAGE_CODE


@dataclass(frozen=True)
class Hashtag:
    name: str  # display name, without "#"
    url: str  # absolute URL of the tag page


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
    # The reader's "more / less like this" links (newsletter.feedback), in an email only.
    more_url: str = ""
    less_url: str = ""


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


class StoryCache:
    """What a story looks like in one edition's emails apart from its place in the list (its
    title, summary, section, hashtags, image and link), kept by the caller for as long as the
    edition's version holds (newsletter.delivery.batch keeps one per edition version and process):
    a personal list then costs only its own order, not another look at every article."""

    def __init__(self) -> None:
        self._stories: dict[tuple[int, str, str], tuple[Story, str]] = {}

    def get(self, key: tuple[int, str, str]) -> tuple[Story, str] | None:
        return self._stories.get(key)

    def put(self, key: tuple[int, str, str], value: tuple[Story, str]) -> None:
        if len(self._stories) < 4096:
            self._stories[key] = value


def _unplaced_story(article: Article, *, language: str, campaign: str) -> tuple[Story, str]:
    """The story without its position (number 0, its link untracked), and that link."""
    image_src, image_height = email_image(article)
    # A stored URL is checked again here: only http(s) ever becomes a link in an email.
    url = safe_http_url(article.canonical_url) or absolute_url(article.get_absolute_url())
    # Editors' and feeds' text and links carry no mail-merge placeholder (sitewide.mail_merge).
    title = inert_text(" ".join(article.title.split()))
    summary = inert_text(" ".join(article.summary.split()))
    link = inert_url(with_utm(url, campaign=campaign))
    story = Story(
        position=0,
        number="",
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
            Hashtag(name=inert_text(tag.name.replace("_", " ")), url=inert_url(absolute_url(tag.get_absolute_url())))
            for tag in article.tags.all()
        ),
        image_height=image_height,
    )
    return story, link


def build_stories(
    digest: Digest,
    articles: Iterable[Article],
    *,
    language: str,
    merge_field: Callable[[str], str] | None = None,
    first_position: int = 1,
    cache: StoryCache | None = None,
) -> tuple[list[Story], dict[int, str]]:
    """The stories, and the click redirect's targets of their links (article id -> URL; empty
    unless their links are tracked). With `merge_field` (an email), story links go through the
    first-party click redirect and each story carries its "more / less like this" links (the
    same recipient part, merged once per recipient like the click links); `first_position` keeps
    positions unique in an email whose top-up list follows its stories."""
    campaign = campaign_name(digest)
    # With first-party tracking off, links lead straight to the story (ESP click events count).
    tracked_field = merge_field if conf.settings().ANALYTICS_CLICK_TRACKING else None
    targets: dict[int, str] = {}  # the click redirect's targets, returned for the caller to store
    stories = []
    for number, article in enumerate(articles, start=1):
        key = (article.pk, language, campaign)
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = _unplaced_story(article, language=language, campaign=campaign)
            if cache is not None:
                cache.put(key, found)
        story, link = found
        position = first_position + number - 1
        if tracked_field is not None:
            targets[article.pk] = link
            link = tracked_link(
                digest_id=digest.pk, article_id=article.pk, position=position, merge_field=tracked_field
            )
        more_url = less_url = ""
        if merge_field is not None:
            more_url, less_url = (
                feedback_link(
                    digest_id=digest.pk,
                    article_id=article.pk,
                    position=position,
                    choice=choice,
                    merge_field=merge_field,
                )
                for choice in FEEDBACK_CHOICES
            )
        stories.append(
            replace(
                story,
                position=number,
                number=digits(number, language=language),
                url=link,
                more_url=more_url,
                less_url=less_url,
            )
        )
    return stories, targets


@functools.lru_cache(maxsize=4096)
def story_block(story: Story, *, lead: bool, language: str, arabic_block: str) -> SafeString:
    """One story's HTML (`_digest_story.html`), before CSS inlining: a pure function of its
    arguments, so cached per process. Its position is in it (its number, its click link)."""
    context = {
        "story": story,
        "lead": lead,
        "rtl": is_rtl(language),
        "language": language,
        "arabic_block": arabic_block,
    }
    with translation.override(language):
        return mark_safe(get_template("newsletter/email/_digest_story.html").render(context))


@functools.lru_cache(maxsize=4096)
def story_text_block(story: Story, *, language: str, rlm: str, top_up: bool = False) -> str:
    """One story in the plain-text part (`_digest_story.txt`, or the top-up's shorter
    `_digest_top_up_story.txt`), cached like `story_block`."""
    name = "_digest_top_up_story.txt" if top_up else "_digest_story.txt"
    with translation.override(language):
        return get_template(f"newsletter/email/{name}").render({"story": story, "rlm": rlm, "language": language})
