"""Writes and searches for articles: saving (sanitise, slug, tags from hashtags, search text),
tag merging, publishing in bulk, and the normalised search used by the site and the admin.

Every write that changes what the public sees also refreshes, after commit, the Redis index the
read beacon validates against and drops the cached article page.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable

import nh3
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from sitewide.redis_client import get_redis

from . import images, published
from .arabic import display_name, extract_hashtags, html_to_text, normalise, tag_key
from .models import Article, Tag

# What an article body may contain: editors paste from Word, other CMSs and social embeds.
ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "q",
    "cite",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "a",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "code",
    "pre",
    "span",
    "abbr",
    "time",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "abbr": {"title"},
    "time": {"datetime"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "*": {"dir", "lang"},
}
PAGE_CACHE_PREFIX = "articles:page"


def sanitise_html(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def plain_text(markup: str) -> str:
    """The text of an HTML fragment, for fields shown as text (a feed's HTML title): tags,
    comments and the content of script and style removed, references decoded."""
    return html.unescape(nh3.clean(markup, tags=set()))


def unique_slug(
    model: type[Article] | type[Tag], base: str, *, exclude_pk: int | None = None, max_length: int = 280
) -> str:
    stem = slugify(base, allow_unicode=True)[:max_length].strip("-") or "item"
    candidate, counter = stem, 2
    others = model.objects.exclude(pk=exclude_pk) if exclude_pk else model.objects.all()
    while others.filter(slug=candidate).exists():
        candidate = f"{stem}-{counter}"
        counter += 1
    return candidate


def build_search_text(article: Article) -> str:
    text = " ".join([article.title, article.summary, html_to_text(article.body), article.author])
    # Hashtags are written with underscores; a search for the words must find them.
    return normalise(text.replace("_", " "))


# --- Tags -------------------------------------------------------------------------------------


def resolve_tag(tag: Tag) -> Tag:
    """The surviving tag of a (possibly merged) tag."""
    seen = set()
    while tag.merged_into_id and tag.pk not in seen:
        seen.add(tag.pk)
        tag = tag.merged_into  # type: ignore[assignment]
    return tag


def tag_by_key(text: str) -> Tag | None:
    """The tag whose normalised key matches `text` as typed in a URL or a hashtag (hyphens and
    underscores as spaces; hamza, tashkeel, teh marbuta... folded as articles.content.arabic.normalise
    does, docs/EMAIL.md rule 18), merged or not; None when there is none. One indexed query."""
    key = tag_key(text.replace("-", " "))[:150]
    return Tag.objects.select_related("merged_into").filter(key=key).first() if key else None


def get_or_create_tag(name: str) -> Tag:
    """The live tag for a hashtag or category name (by normalised key; merged -> survivor)."""
    key = tag_key(name)[:150]
    tag = Tag.objects.select_related("merged_into").filter(key=key).first()
    if tag is None:
        shown = display_name(name)[:150] or key
        tag, _ = Tag.objects.get_or_create(
            key=key, defaults={"name": shown, "slug": unique_slug(Tag, key, max_length=140)}
        )
    return resolve_tag(tag)


def tags_for(names: Iterable[str]) -> list[Tag]:
    result: dict[int, Tag] = {}
    for name in names:
        if tag_key(name):
            tag = get_or_create_tag(name)
            result.setdefault(tag.pk, tag)
    return list(result.values())


def sync_tags(article: Article, *, extra_names: Iterable[str] = (), replace: bool = False) -> None:
    """Give the article a tag per hashtag in its body (plus `extra_names`, e.g. feed categories).
    replace=False keeps tags an editor chose by hand; merged tags are swapped for survivors."""
    wanted = tags_for([h.raw for h in extract_hashtags(html_to_text(article.body))] + list(extra_names))
    if replace:
        article.tags.set(wanted)
        return
    current = list(article.tags.select_related("merged_into"))
    merged = [t for t in current if t.merged_into_id]
    if merged:
        article.tags.remove(*merged)
        wanted.extend(resolve_tag(t) for t in merged)
    article.tags.add(*wanted)


@transaction.atomic
def merge_tags(*, source: Tag, into: Tag) -> int:
    """Merge `source` into `into`: its articles get `into`, its old URL and hashtag key resolve to
    `into` from now on (the row stays with merged_into set). Returns articles moved."""
    into = resolve_tag(into)
    if source.pk == into.pk:
        return 0
    through = Article.tags.through
    article_ids = list(through.objects.filter(tag_id=source.pk).values_list("article_id", flat=True))
    through.objects.bulk_create(
        [through(article_id=article_id, tag_id=into.pk) for article_id in article_ids], ignore_conflicts=True
    )
    through.objects.filter(tag_id=source.pk).delete()
    # Keep chains one step long: tags merged into `source` earlier now point at the survivor.
    Tag.objects.filter(merged_into=source).update(merged_into=into)
    source.merged_into = into
    source.save(update_fields=["merged_into"])
    slugs = list(Article.objects.filter(id__in=article_ids).values_list("slug", flat=True))
    transaction.on_commit(lambda: invalidate_pages(slugs))
    return len(article_ids)


# --- Articles ---------------------------------------------------------------------------------


def prepare_article(article: Article) -> None:
    """Sanitise the body, fill slug and search text (before save)."""
    article.body = sanitise_html(article.body or "")
    if not article.slug:
        article.slug = unique_slug(Article, article.title, exclude_pk=article.pk)
    if article.status == Article.Status.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    if article.canonical_url == "":
        article.canonical_url = None
    if article.guid == "":
        article.guid = None
    article.search_text = build_search_text(article)


@transaction.atomic
def save_article(
    article: Article, *, extra_tag_names: Iterable[str] = (), replace_tags: bool = False, sync: bool = True
) -> Article:
    old_slug, old_image = None, ""
    if article.pk:
        old_slug, old_image = Article.objects.filter(pk=article.pk).values_list("slug", "image").first() or (None, "")
    prepare_article(article)
    article.save()
    if (article.image.name or "") != (old_image or "") or (article.image and not article.email_image):
        refresh_email_image(article)
    if sync:
        sync_tags(article, extra_names=extra_tag_names, replace=replace_tags)
    after_change([article], old_slugs=[old_slug] if old_slug else [])
    return article


def refresh_email_image(article: Article) -> None:
    """(Re)make the email copy of the article's uploaded image (articles.content.images), or drop it
    when the image was removed. The replaced copy's file is deleted after commit."""
    previous = article.email_image.name if article.email_image else ""
    if article.image:
        with article.image.open("rb") as source:
            copy = images.make_email_copy(source, stem=f"{article.pk}-{secrets.token_hex(4)}")
        article.email_image.save(copy.name, copy.content, save=False)
        article.email_image_width, article.email_image_height = copy.width, copy.height
    else:
        article.email_image = ""
        article.email_image_width = article.email_image_height = None
    article.save(update_fields=["email_image", "email_image_width", "email_image_height"])
    if previous:
        storage = article.email_image.storage
        transaction.on_commit(lambda: storage.delete(previous))


def after_change(articles: Iterable[Article], *, old_slugs: Iterable[str] = ()) -> None:
    """After commit: refresh the beacon index and drop cached pages of these articles."""
    articles = list(articles)
    now = timezone.now()
    visible = [a for a in articles if a.status == Article.Status.PUBLISHED and a.published_at and a.published_at <= now]
    entries = [published.index_entry(a) for a in visible]
    gone = [a.pk for a in articles if a not in visible]
    slugs = [a.slug for a in articles] + [s for s in old_slugs if s]

    def refresh() -> None:
        published.index_articles(published=entries, unpublished=gone)
        invalidate_pages(slugs)

    transaction.on_commit(refresh)


def page_cache_key(slug: str, language: str) -> str:
    return f"{PAGE_CACHE_PREFIX}:{language}:{slug}"


def invalidate_pages(slugs: Iterable[str]) -> None:
    from django.conf import settings

    keys = [page_cache_key(slug, code) for slug in slugs for code, _ in settings.LANGUAGES]
    if keys:
        get_redis().delete(*keys)


@transaction.atomic
def set_status(queryset: QuerySet[Article], *, status: str) -> int:
    """Publish or unpublish in bulk (published_at is set when first published)."""
    now = timezone.now()
    # Plain rows (the admin's queryset carries joins and annotations FOR UPDATE cannot take).
    ids = list(queryset.values_list("pk", flat=True))
    articles = list(Article.objects.select_for_update().filter(pk__in=ids))
    for article in articles:
        article.status = status
        article.updated_at = now
        if status == Article.Status.PUBLISHED and article.published_at is None:
            article.published_at = now
    if articles:
        Article.objects.bulk_update(articles, ["status", "published_at", "updated_at"])
    after_change(articles)
    return len(articles)


@transaction.atomic
def set_excluded(queryset: QuerySet[Article], *, excluded: bool) -> int:
    articles = list(Article.objects.filter(pk__in=queryset.values("pk")).only("id", "slug"))
    count = Article.objects.filter(pk__in=[a.pk for a in articles]).update(
        exclude_from_digests=excluded, updated_at=timezone.now()
    )
    slugs = [a.slug for a in articles]
    transaction.on_commit(lambda: invalidate_pages(slugs))
    return count


def search(queryset: QuerySet[Article], query: str) -> QuerySet[Article]:
    """Articles whose normalised text contains every word of the normalised query."""
    words = normalise(query.replace("_", " ")).replace("#", " ").split()
    for word in words[:10]:
        queryset = queryset.filter(search_text__icontains=word)
    return queryset
