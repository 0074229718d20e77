"""Content-Security-Policy (django-csp, sitewide.csp): strict on the site, inline styles in the
admin only, and the embeddable signup form keeps its own frame-ancestors header."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from articles.content import services
from articles.content.models import Article


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline scripts, <style>, style= and on*=."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        self.found += [
            f"{tag} javascript: URL" for _, value in attrs if (value or "").lower().startswith("javascript:")
        ]


def make_article(**fields: object) -> Article:
    article = Article(title="مقال عن #الكهرباء", body="<p>نص عن #الكهرباء</p>", status="published", **fields)
    return services.save_article(article)


@pytest.fixture
def pages(db) -> list[str]:
    article = make_article(image_url="https://img.example.com/a.jpg")
    tag = article.tags.get()
    return ["/", article.get_absolute_url(), tag.get_absolute_url(), "/search/?q=الكهرباء", "/newsletter/"]


@pytest.mark.django_db
def test_site_pages_get_a_strict_policy_and_have_no_inline_code(pages: list[str], client: Client) -> None:
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], url
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'self'"]
        assert "https:" in policy["img-src"]  # article images hosted on the CMS
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], (url, parser.found)
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_admin_allows_inline_styles_but_not_inline_scripts(admin_client: Client) -> None:
    make_article()
    for url in ["/admin/login/", "/admin/", "/admin/articles/article/"]:
        response = Client().get(url) if url == "/admin/login/" else admin_client.get(url)
        policy = directives(response["Content-Security-Policy"])
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"], url
        assert policy["script-src"] == ["'self'"], url
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert not [f for f in parser.found if "script" in f or " on" in f], (url, parser.found)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("origins", "expected"),
    [([], "frame-ancestors *"), (["https://blog.example.org"], "frame-ancestors 'self' https://blog.example.org")],
)
def test_the_embed_keeps_its_own_frame_ancestors(settings, origins: list[str], expected: str) -> None:
    settings.SIGNUP_ALLOWED_ORIGINS = origins
    response = Client().get("/newsletter/embed/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == expected
