"""Public pages (home, article, tag, section, search) and the read beacon. Thin: lookups and
rendering here, behaviour in services, reads and ranking.

The article page is cached rendered (per slug and language, 60 s, dropped on save) with a
placeholder where the CSRF token goes, so a cached hit costs no SQL; the read is still counted
on every view. Staff are recognised by a session lookup that only happens for requests that
carry a session cookie (readers do not log in), so ordinary readers never pay for it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sitewide.cached_pages import render_shared, respond
from sitewide.redis_client import get_redis

from .content import services
from .content.arabic import Hashtag, extract_hashtags, html_to_text, link_hashtags
from .content.models import Article, Section, Tag
from .reading import beacon as beacon_module
from .reading import reads, visitors
from .reading.ranking import most_read

PAGE_SIZE = 20
PAGE_CACHE_SECONDS = 60
MOST_READ_CACHE_SECONDS = 60
MOST_READ_SIZE = 10


def most_read_list() -> list[dict[str, object]]:
    """The "most read" box: last 24 hours, falling back to 7 days when the day is quiet.
    Cached a minute as plain dicts (shared by every page)."""
    key = "articles:most-read:v1"
    cached = cache.get(key)
    if cached is not None:
        return cached
    now = timezone.now()
    items = most_read(now - timedelta(hours=24), now, MOST_READ_SIZE)
    if len(items) < 3:
        items = most_read(now - timedelta(days=7), now, MOST_READ_SIZE)
    value = [{"title": a.title, "url": a.get_absolute_url(), "readers": getattr(a, "readers", 0)} for a in items]
    cache.set(key, value, MOST_READ_CACHE_SECONDS)
    return value


def _is_staff(request: HttpRequest) -> bool:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return bool(getattr(request, "user", None) and request.user.is_staff)


def _with_visitor_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if visitors.read_cookie(request.COOKIES.get(visitors.VISITOR_COOKIE, "")) is None:
        # No cookie, or one without a valid signature: the id counted for this view (the daily
        # IP+UA hash) becomes the signed cookie, so the reader's next view is the same reader;
        # it is random-looking and carries no IP.
        visitor = visitors.identify_request(request)
        visitors.set_cookie(response, visitors.sign_cookie(visitor.id), secure=request.is_secure())
    return response


def home(request: HttpRequest) -> HttpResponse:
    latest = Article.objects.published().select_related("section")[:PAGE_SIZE]
    return render(request, "articles/home.html", {"latest": latest, "most_read": most_read_list()})


def render_body(article: Article) -> str:
    """Article body with each hashtag linked to its (surviving) tag page. One query."""
    hashtags = extract_hashtags(html_to_text(article.body))
    if not hashtags:
        return article.body
    tags = Tag.objects.filter(key__in=[h.key for h in hashtags]).select_related("merged_into")
    urls = {tag.key: services.resolve_tag(tag).get_absolute_url() for tag in tags}

    def url_for(hashtag: Hashtag) -> str | None:
        return urls.get(hashtag.key)

    return link_hashtags(article.body, url_for)


def _render_article(request: HttpRequest, article: Article) -> str:
    context = {
        "article": article,
        "body": render_body(article),
        "tags": [t for t in article.tags.all() if not t.merged_into_id],
        "most_read": most_read_list(),
        "lang_next": article.get_absolute_url(),
    }
    return render_shared("articles/article.html", context, request=request)


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    staff = _is_staff(request)
    key = services.page_cache_key(slug, getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE))
    # Raw Redis rather than the Django cache: the latter builds a client object per call,
    # which is a quarter of this view's cost on a cache hit.
    cached = None if staff else cast(bytes | None, get_redis().get(key))
    if cached is not None:
        raw_id, _, raw_html = cached.partition(b"\n")
        article_id, html = int(raw_id), raw_html.decode()
    else:
        queryset = Article.objects.select_related("section").prefetch_related("tags")
        if not staff:
            queryset = queryset.published()
        article = get_object_or_404(queryset, slug=slug)
        article_id, html = article.pk, _render_article(request, article)
        if article.status == Article.Status.PUBLISHED and not staff:
            get_redis().set(key, f"{article_id}\n{html}".encode(), ex=PAGE_CACHE_SECONDS)
    response = respond(request, html)
    if request.method == "HEAD":
        return response
    if not staff:
        reads.count_request(request, article_id)
    return _with_visitor_cookie(request, response)


def _page(request: HttpRequest, queryset):  # type: ignore[no-untyped-def]
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = Tag.objects.select_related("merged_into").filter(slug=slug).first()
    if tag is None:
        # Typed another way (/tags/أميركا/ for the tag /tags/اميركا/): the tag with the same
        # normalised key, at its own address.
        found = services.tag_by_key(slug)
        if found is None:
            raise Http404
        return HttpResponsePermanentRedirect(services.resolve_tag(found).get_absolute_url())
    if tag.merged_into_id:
        return HttpResponsePermanentRedirect(services.resolve_tag(tag).get_absolute_url())
    articles = Article.objects.published().filter(tags=tag).select_related("section")
    return render(
        request,
        "articles/list.html",
        {
            "heading": f"#{tag.name}",
            "page_obj": _page(request, articles),
            "kind": "tag",
        },
    )


def section_detail(request: HttpRequest, slug: str) -> HttpResponse:
    section = get_object_or_404(Section, slug=slug)
    articles = Article.objects.published().filter(section=section).select_related("section")
    return render(
        request,
        "articles/list.html",
        {
            "heading": str(section),  # its English name on the English site, when it has one
            "page_obj": _page(request, articles),
            "kind": "section",
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200].strip()
    page_obj = None
    if query:
        results = services.search(Article.objects.published().select_related("section"), query)
        page_obj = _page(request, results)
    return render(request, "articles/search.html", {"query": query, "page_obj": page_obj})


@csrf_exempt
def beacon(request: HttpRequest) -> HttpResponse:
    """Read beacon for pages served elsewhere (articles.reading.beacon). No SQL."""
    result = beacon_module.handle(
        method=request.method or "GET",
        meta=request.META,
        cookie=request.COOKIES.get(visitors.VISITOR_COOKIE, ""),
        query_string=request.META.get("QUERY_STRING", ""),
        content_length=request.META.get("CONTENT_LENGTH", ""),
        read_body=lambda size: request.read(min(size, beacon_module.MAX_BEACON_BYTES + 1)),
    )
    response = HttpResponse(result.body, status=result.status, content_type=result.content_type)
    if result.status == 405:
        response["Allow"] = "GET, POST, HEAD"
    response["Cache-Control"] = "no-store"
    return response
