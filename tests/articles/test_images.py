"""Article images: only real JPEG/PNG/WebP/GIF uploads are kept, and emails get a small copy."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from articles.content.models import Article

SVG = b"""<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">
<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>"""
HTML = b"<!doctype html><html><body><script>fetch('/admin/')</script></body></html>"


def png_bytes(width: int, height: int, *, mode: str = "RGB") -> bytes:
    # A photo-like picture (gradients and texture), so byte sizes are realistic.
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    noise = Image.effect_noise((width, height), 40).convert(mode)
    image = Image.blend(image, noise, 0.3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def add_form(**files: SimpleUploadedFile) -> dict[str, object]:
    return {
        "title": "مقال مع صورة",
        "slug": "",
        "summary": "",
        "body": "<p>نص</p>",
        "author": "",
        "image_url": "",
        "image_alt": "",
        "status": "published",
        "published_at_0": "",
        "published_at_1": "",
        "canonical_url": "",
        "guid": "",
        **files,
    }


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("logo.svg", SVG, "image/svg+xml"),
        ("photo.png", HTML, "image/png"),  # an HTML page renamed .png
        ("page.html", HTML, "text/html"),
        ("photo.png", SVG, "image/png"),
    ],
)
def test_admin_refuses_svg_and_html_uploads_and_saves_nothing(
    admin_client: Client, media: Path, name: str, content: bytes, content_type: str
) -> None:
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = admin_client.post("/admin/articles/article/add/", add_form(image=upload))
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert "JPEG أو PNG أو WebP أو GIF" in str(errors.get("image")), errors
    assert not Article.objects.exists()
    assert stored_files(media) == []


@pytest.mark.django_db
def test_admin_refuses_other_formats_and_mismatched_extensions(admin_client: Client, media: Path) -> None:
    bmp = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(bmp, "BMP")
    for upload in [
        SimpleUploadedFile("photo.bmp", bmp.getvalue(), content_type="image/bmp"),
        SimpleUploadedFile("photo.jpg", png_bytes(20, 20), content_type="image/jpeg"),  # a PNG named .jpg
    ]:
        response = admin_client.post("/admin/articles/article/add/", add_form(image=upload))
        assert response.status_code == 200
        assert "image" in response.context["adminform"].form.errors
    assert not Article.objects.exists() and stored_files(media) == []


@pytest.mark.django_db
def test_a_large_png_gets_a_small_email_copy(
    admin_client: Client, media: Path, django_capture_on_commit_callbacks
) -> None:
    original = png_bytes(2000, 1500)
    upload = SimpleUploadedFile("صورة-كبيرة.png", original, content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/articles/article/add/", add_form(image=upload))
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert (article.image.name or "").endswith(".png") and article.image.size == len(original)
    assert article.email_image_url.startswith("/media/articles/email/")
    assert (article.email_image_width, article.email_image_height) == (600, 450)
    with Image.open(article.email_image.path) as copy:
        assert copy.size == (600, 450) and copy.format == "JPEG"
    assert article.email_image.size * 10 < len(original)  # much smaller
    # Replacing the image replaces the copy (and its old file); removing it removes the copy.
    old_copy = Path(article.email_image.path)
    transparent = SimpleUploadedFile("logo.png", png_bytes(300, 100, mode="RGBA"), content_type="image/png")
    change = f"/admin/articles/article/{article.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        form = add_form(image=transparent) | {"title": article.title, "slug": article.slug}
        assert admin_client.post(change, form).status_code == 302
    article.refresh_from_db()
    assert not old_copy.exists()
    assert (article.email_image_width, article.email_image_height) == (300, 100)
    assert (article.email_image.name or "").endswith(".png")  # transparency kept
    with django_capture_on_commit_callbacks(execute=True):
        form = add_form() | {"title": article.title, "slug": article.slug, "image-clear": "on"}
        assert admin_client.post(change, form).status_code == 302
    article.refresh_from_db()
    assert not article.image and article.email_image_url == "" and article.email_image_width is None


@pytest.mark.django_db
def test_image_src_never_returns_a_script_url(make_article) -> None:
    article = make_article(image_url="https://img.example.com/a.jpg")
    assert article.image_src == "https://img.example.com/a.jpg" and article.email_image_url == ""
    Article.objects.filter(pk=article.pk).update(image_url="javascript:alert(1)")  # stored before any check
    article.refresh_from_db()
    assert article.image_src == ""
