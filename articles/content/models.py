"""Articles, their sections and tags, and the record of the last import of each feed.

Only data and invariants live here; behaviour lives in plain modules (arabic, services, feeds)
so views, admin and tasks stay thin. Read statistics belong to articles.reading.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from . import images
from .urls_safety import safe_http_url


class Section(models.Model):
    """A section of the site. Its English name is what English readers see (the English email
    and the English site); left empty, they see the Arabic one."""

    name = models.CharField(_("الاسم"), max_length=100, unique=True)
    name_en = models.CharField(
        _("الاسم بالإنجليزية"),
        max_length=100,
        blank=True,
        help_text=_("يظهر في النشرة الإنجليزية وفي الموقع بالإنجليزية؛ إن تُرك فارغًا ظهر الاسم العربي."),
    )
    slug = models.SlugField(_("المعرّف"), max_length=100, unique=True, allow_unicode=True)
    position = models.PositiveSmallIntegerField(_("الترتيب"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("قسم")
        verbose_name_plural = _("الأقسام")

    def __str__(self) -> str:
        return self.name_in(translation.get_language() or settings.LANGUAGE_CODE)

    def name_in(self, language: str) -> str:
        """The name readers of `language` see: the English name in English when one is set."""
        if self.name_en and not language.startswith("ar"):
            return self.name_en
        return self.name

    def language_of_name(self, language: str) -> str:
        """The language the name shown to `language` readers is written in ("ar" or "en")."""
        return "en" if self.name_en and not language.startswith("ar") else "ar"

    def get_absolute_url(self) -> str:
        return reverse("articles:section", kwargs={"slug": self.slug})


class Tag(models.Model):
    """A hashtag. `key` is the normalised form (articles.content.arabic.normalise) that makes
    #أميركا and #اميركا one tag; `name` is how it is shown (underscores as spaces).
    A merged tag keeps its row with `merged_into` set, so old links and hashtags still resolve."""

    name = models.CharField(_("الاسم"), max_length=150)
    key = models.CharField(_("المفتاح الموحّد"), max_length=150, unique=True)
    slug = models.SlugField(_("المعرّف"), max_length=150, unique=True, allow_unicode=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("مدموج في"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tags",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("وسم")
        verbose_name_plural = _("الوسوم")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:tag", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> ArticleQuerySet:
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("مسودة")
        PUBLISHED = "published", _("منشور")

    title = models.CharField(_("العنوان"), max_length=300)
    slug = models.SlugField(_("المعرّف"), max_length=300, unique=True, allow_unicode=True)
    summary = models.TextField(_("الملخص"), blank=True)
    body = models.TextField(_("النص"), blank=True, help_text=_("HTML، يُنقّى عند الحفظ."))
    image = models.ImageField(
        _("صورة مرفوعة"),
        upload_to="articles/%Y/%m/",
        blank=True,
        validators=[FileExtensionValidator(images.ALLOWED_EXTENSIONS), images.validate_article_image],
        help_text=_("JPEG أو PNG أو WebP أو GIF. تُصنع منها نسخة للنشرة بعرض 600 بكسل على الأكثر."),
    )
    # Re-encoded copy for emails (articles.content.images), made by articles.content.services when `image` changes.
    email_image = models.ImageField(upload_to="articles/email/%Y/%m/", blank=True, editable=False)
    email_image_width = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    email_image_height = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    image_url = models.URLField(_("رابط الصورة"), max_length=500, blank=True)
    image_alt = models.CharField(_("النص البديل للصورة"), max_length=300, blank=True)
    canonical_url = models.URLField(
        _("الرابط الأصلي"),
        max_length=500,
        blank=True,
        null=True,
        unique=True,
        help_text=_("عندما يُنشر المقال على نظام إدارة محتوى خارجي."),
    )
    guid = models.CharField(_("معرّف الخلاصة"), max_length=500, blank=True, null=True, unique=True)
    section = models.ForeignKey(
        Section,
        verbose_name=_("القسم"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("الوسوم"), blank=True, related_name="articles")
    author = models.CharField(_("الكاتب"), max_length=200, blank=True)
    status = models.CharField(_("الحالة"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("تاريخ النشر"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("آخر تعديل"), auto_now=True)
    exclude_from_digests = models.BooleanField(_("استبعاد من النشرات"), default=False)
    # Normalised title + summary + body text (articles.content.arabic.normalise): search ignores
    # tashkeel, tatweel and alef/yeh/teh-marbuta forms by matching against this column.
    search_text = models.TextField(editable=False, blank=True, default="")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("مقال")
        verbose_name_plural = _("المقالات")
        indexes = [models.Index(fields=["status", "-published_at"], name="article_status_pub")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", kwargs={"slug": self.slug})

    @property
    def image_src(self) -> str:
        if self.image:
            return self.image.url
        return safe_http_url(self.image_url)

    @property
    def email_image_url(self) -> str:
        """Path under MEDIA_URL of the copy for emails (at most 600 px wide), "" when none."""
        return self.email_image.url if self.email_image else ""


FEED_SOURCE_LENGTH = 1000


class FeedImport(models.Model):
    """The last import of one feed (a FEED_URLS address, or what `import_feed` was given): when,
    what it did, and the entries it skipped with the reason of each (articles.content.feed_reports).
    One row per feed, replaced by every import; editors read it in the admin."""

    source = models.CharField(_("الخلاصة"), max_length=FEED_SOURCE_LENGTH, unique=True)
    imported_at = models.DateTimeField(_("آخر استيراد"))
    # Empty when the feed was imported; else FeedError.kind (articles.content.feed_reports.REFUSALS).
    refusal = models.CharField(_("سبب الرفض"), max_length=20, blank=True)
    error = models.TextField(_("التفاصيل التقنية"), blank=True)
    created = models.PositiveIntegerField(_("جديدة"), default=0)
    updated = models.PositiveIntegerField(_("محدّثة"), default=0)
    unchanged = models.PositiveIntegerField(_("بلا تغيير"), default=0)
    skipped = models.PositiveIntegerField(_("متروكة"), default=0)
    # [{"position": 3, "label": "...", "reason": "no_title", "detail": ""}, ...], at most
    # feed_reports.MAX_LISTED of them (`skipped` counts them all).
    skipped_entries = models.JSONField(_("المدخلات المتروكة"), default=list, blank=True)

    class Meta:
        ordering = ["source"]
        verbose_name = _("استيراد خلاصة")
        verbose_name_plural = _("استيراد الخلاصات")

    def __str__(self) -> str:
        return self.source
