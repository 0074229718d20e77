"""Article images: what an upload may be, and the copy made for emails.

Uploaded files are served from the site's own origin or a media host beside it (the bucket or
the proxy's MEDIA_URL, config.settings), so an upload that is really HTML or SVG (which can carry
script) would run as the site or as that host. An upload is accepted only when Pillow reads it
as JPEG, PNG, WebP or GIF, its extension names that same format (the extension decides the
Content-Type it is served with), and it is not a decompression bomb. The check is on content:
a renamed HTML file fails however it is named.

The email copy is re-encoded by Pillow (never the uploaded bytes: no metadata, no trailing
payload), at most EMAIL_MAX_WIDTH pixels wide: PNG when the image has transparency, else JPEG.
articles.content.services makes it whenever the image changes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from sitewide.dates import digits

EMAIL_MAX_WIDTH = 600
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: any camera photo; far below what exhausts memory
JPEG_QUALITY = 82
# Pillow format -> extensions a file of that format may be stored under.
ALLOWED_FORMATS = {
    "JPEG": {"jpg", "jpeg"},
    "PNG": {"png"},
    "WEBP": {"webp"},
    "GIF": {"gif"},
}
ALLOWED_EXTENSIONS = sorted(ext for exts in ALLOWED_FORMATS.values() for ext in exts)

NOT_AN_IMAGE = _("الملف ليس صورة مقبولة: ارفع صورة JPEG أو PNG أو WebP أو GIF (ملفات SVG وHTML غير مقبولة).")


def validate_article_image(value: File) -> None:
    """Model-field validator: raises ValidationError unless `value` is an allowed raster image."""
    if value.size is not None and value.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("الصورة أكبر من %(mb)s ميغابايت.") % {"mb": digits(MAX_UPLOAD_BYTES // (1024 * 1024))}, code="too_large"
        )
    extension = PurePath(value.name or "").suffix.lower().lstrip(".")
    position = value.tell() if hasattr(value, "tell") else 0
    try:
        value.seek(0)
        with Image.open(value) as image:
            image_format = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError(NOT_AN_IMAGE, code="invalid_image") from error
    finally:
        value.seek(position)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(NOT_AN_IMAGE, code="invalid_image")
    if extension not in ALLOWED_FORMATS[image_format]:
        raise ValidationError(
            _("امتداد الملف لا يطابق محتواه: هذه صورة %(format)s، فليكن امتدادها .%(extension)s.")
            % {"format": image_format, "extension": sorted(ALLOWED_FORMATS[image_format])[0]},
            code="extension_mismatch",
        )
    if width * height > MAX_PIXELS:
        raise ValidationError(_("أبعاد الصورة كبيرة جدًا."), code="too_many_pixels")


@dataclass(frozen=True)
class EmailCopy:
    content: ContentFile
    name: str
    width: int
    height: int


def make_email_copy(source: File, *, stem: str) -> EmailCopy:
    """A re-encoded copy of `source` at most EMAIL_MAX_WIDTH wide, named `<stem>.jpg|png`."""
    source.seek(0)
    with Image.open(source) as original:
        original.seek(0)  # animated GIF/WebP: the first frame
        image = ImageOps.exif_transpose(original)
        if image.width > EMAIL_MAX_WIDTH:
            height = max(1, round(image.height * EMAIL_MAX_WIDTH / image.width))
            image = image.resize((EMAIL_MAX_WIDTH, height), Image.Resampling.LANCZOS)
        transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        buffer = io.BytesIO()
        if transparent:
            image.convert("RGBA").save(buffer, "PNG", optimize=True)
            extension = "png"
        else:
            image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
            extension = "jpg"
        return EmailCopy(ContentFile(buffer.getvalue()), f"{stem}.{extension}", image.width, image.height)
