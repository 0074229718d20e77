"""Admin for editors: articles (reads in the last 24 h / 7 d, bulk publish and digest
exclusion, normalised search), sections, tags (with merge), and the record of each feed's last
import (read-only: what it created, updated, left and skipped, and why). Actions are thin: they
call articles.content.services."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin import widgets as admin_widgets
from django.db import models
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from sitewide import admin_display as display
from sitewide.dates import digits, grouped
from sitewide.mail_merge import reject_mail_merge

from .content import feed_reports, images, services
from .content.models import Article, FeedImport, Section, Tag
from .reading.models import ArticleDailyStats


# Labels holding a number are written when shown, in the numerals of the page's language.
def _reads_in_hours(hours: int) -> str:
    return ngettext("القراءات في ساعة", "القراءات في %(n)s ساعة", hours) % {"n": digits(hours)}


def _reads_in_days(days: int) -> str:
    return ngettext("القراءات في يوم", "القراءات في %(n)s أيام", days) % {"n": digits(days)}


def _image_help() -> str:
    return gettext("JPEG أو PNG أو WebP أو GIF. تُصنع منها نسخة للنشرة بعرض %(width)s بكسل على الأكثر.") % {
        "width": digits(images.EMAIL_MAX_WIDTH)
    }


def _views_since(day):  # type: ignore[no-untyped-def]
    stats = (
        ArticleDailyStats.objects.filter(article=OuterRef("pk"), day__gte=day)
        .values("article")
        .annotate(total=Sum("views"))
        .values("total")
    )
    return Coalesce(Subquery(stats, output_field=IntegerField()), 0)


# The fields of an article that reach the digest: none may hold mail-merge syntax, or each
# reader's own links would be filled into it (sitewide.mail_merge; the rendering makes them inert too).
MAIL_MERGE_CHECKED = ("title", "summary", "image_url", "image_alt", "canonical_url")


def refuse_mail_merge(form: type[forms.ModelForm], names: tuple[str, ...]) -> type[forms.ModelForm]:
    """Add the mail-merge check to these fields of an admin form class (made per request)."""
    for name in names:
        field = form.base_fields.get(name)
        if field is not None:
            field.validators = [*field.validators, reject_mail_merge]
    return form


class LabelledSplitDateTime(admin_widgets.AdminSplitDateTime):
    """Django's date and time boxes, each with its own name for screen readers (the field's
    label names only the first box; axe-core: label)."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = gettext("التاريخ")
        self.widgets[1].attrs["aria-label"] = gettext("الوقت")


@admin.register(Article)
@display.shown(Article, "published_at", "updated_at")
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "section", "status", "shown_published_at", "reads_24h", "reads_7d", "exclude_from_digests"]
    list_filter = ["status", "section", "exclude_from_digests", ("published_at", admin.DateFieldListFilter)]
    list_select_related = ["section"]
    search_fields = ["title"]  # replaced by the normalised search in get_search_results
    search_help_text = _("يطابق البحث بغض النظر عن التشكيل والهمزات والتطويل.")
    date_hierarchy = "published_at"
    autocomplete_fields = ["tags"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["publish", "unpublish", "exclude_selected", "include_selected"]
    readonly_fields = ["shown_updated_at"]
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https"},
        models.DateTimeField: {"widget": LabelledSplitDateTime},
        # Say what is accepted instead of Django's generic "not an image" (articles.content.images).
        models.ImageField: {"error_messages": {"invalid_image": images.NOT_AN_IMAGE}},
    }

    class Media:
        js = ["admin_select2_labels.js"]

    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "section", "tags", "author"]}),
        (_("الصورة"), {"fields": ["image", "image_url", "image_alt"]}),
        (
            _("النشر"),
            {"fields": ["status", "published_at", "exclude_from_digests", "canonical_url", "guid", "shown_updated_at"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        today = timezone.localdate()
        # The 24-hour figure covers yesterday and today: counters are kept per local day.
        return (
            super()
            .get_queryset(request)
            .annotate(
                _reads_24h=_views_since(today - timedelta(days=1)),
                _reads_7d=_views_since(today - timedelta(days=6)),
            )
        )

    @admin.display(description=lazy(_reads_in_hours, str)(24), ordering="_reads_24h")
    def reads_24h(self, obj: Article) -> str:
        return grouped(obj._reads_24h)  # type: ignore[attr-defined]

    @admin.display(description=lazy(_reads_in_days, str)(7), ordering="_reads_7d")
    def reads_7d(self, obj: Article) -> str:
        return grouped(obj._reads_7d)  # type: ignore[attr-defined]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Article], search_term: str):  # type: ignore[no-untyped-def]
        if not search_term.strip():
            return queryset, False
        return services.search(queryset, search_term), False

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["slug"].required = False
        if "image" in form.base_fields:
            form.base_fields["image"].help_text = _image_help()
        return refuse_mail_merge(form, MAIL_MERGE_CHECKED)

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        # Tags are synced after the form's own m2m save (save_related), else it would undo them.
        services.save_article(obj, sync=False)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        services.sync_tags(form.instance)

    @admin.action(description=_("نشر المقالات المحددة"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = services.set_status(queryset, status=Article.Status.PUBLISHED)
        self.message_user(
            request,
            ngettext("نُشر %(count)s مقال.", "نُشر %(count)s مقالًا.", count) % {"count": grouped(count)},
            messages.SUCCESS,
        )

    @admin.action(description=_("إلغاء نشر المقالات المحددة"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = services.set_status(queryset, status=Article.Status.DRAFT)
        self.message_user(
            request,
            ngettext("أُلغي نشر %(count)s مقال.", "أُلغي نشر %(count)s مقالًا.", count) % {"count": grouped(count)},
            messages.SUCCESS,
        )

    @admin.action(description=_("استبعاد من النشرات"), permissions=["change"])
    def exclude_selected(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = services.set_excluded(queryset, excluded=True)
        self.message_user(
            request,
            ngettext("استُبعد %(count)s مقال.", "استُبعد %(count)s مقالًا.", count) % {"count": grouped(count)},
            messages.SUCCESS,
        )

    @admin.action(description=_("إعادة إلى النشرات"), permissions=["change"])
    def include_selected(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = services.set_excluded(queryset, excluded=False)
        self.message_user(
            request,
            ngettext("أُعيد %(count)s مقال.", "أُعيد %(count)s مقالًا.", count) % {"count": grouped(count)},
            messages.SUCCESS,
        )


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        return refuse_mail_merge(super().get_form(request, obj, change, **kwargs), ("name",))


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=_("الوسم الباقي"),
        queryset=Tag.objects.filter(merged_into__isnull=True),
        widget=forms.TextInput,
        help_text=_("رقم الوسم الذي تُدمج فيه الوسوم المحددة."),
    )


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "slug", "merged_into"]
    list_select_related = ["merged_into"]
    list_filter = [("merged_into", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key"]
    readonly_fields = ["key", "merged_into"]
    show_full_result_count = False
    actions = ["merge"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Tag], search_term: str):  # type: ignore[no-untyped-def]
        from .content.arabic import tag_key

        if not search_term.strip():
            return queryset, False
        # Autocomplete and the list search by normalised key, so أمريكا finds امريكا.
        return queryset.filter(key__icontains=tag_key(search_term)), False

    def save_model(self, request: HttpRequest, obj: Tag, form: forms.ModelForm, change: bool) -> None:
        from .content.arabic import tag_key

        obj.key = tag_key(obj.name)
        super().save_model(request, obj, form, change)

    @admin.action(description=_("دمج الوسوم المحددة في وسم آخر"), permissions=["change"])
    def merge(self, request: HttpRequest, queryset: QuerySet[Tag]) -> HttpResponse | None:
        if "apply" in request.POST:
            form = MergeForm(request.POST)
            if form.is_valid():
                into = form.cleaned_data["into"]
                moved = sum(services.merge_tags(source=tag, into=into) for tag in queryset if tag.pk != into.pk)
                message = ngettext("دُمجت الوسوم؛ نُقل رابط مقال واحد.", "دُمجت الوسوم؛ نُقلت %(n)s روابط مقالات.", moved)
                self.message_user(request, message % {"n": grouped(moved)}, messages.SUCCESS)
                return None
        else:
            form = MergeForm()
        return render(
            request,
            "articles/admin/merge_tags.html",
            {
                **self.admin_site.each_context(request),
                "title": _("دمج الوسوم"),
                "tags": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(FeedImport)
@display.shown(FeedImport, "imported_at", "created", "updated", "unchanged", "skipped")
class FeedImportAdmin(admin.ModelAdmin):
    """Written by every import (articles.content.feeds); nobody edits it here."""

    list_display = [
        "shown_source",
        "shown_imported_at",
        "outcome",
        "shown_created",
        "shown_updated",
        "shown_unchanged",
        "shown_skipped",
    ]
    list_filter = [("refusal", admin.EmptyFieldListFilter)]
    fields = [
        "shown_source",
        "shown_imported_at",
        "outcome",
        ("shown_created", "shown_updated", "shown_unchanged", "shown_skipped"),
        "skipped_list",
        "technical",
    ]
    readonly_fields = [
        "shown_source",
        "shown_imported_at",
        "outcome",
        "shown_created",
        "shown_updated",
        "shown_unchanged",
        "shown_skipped",
        "skipped_list",
        "technical",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FeedImport | None = None) -> bool:
        return False

    @admin.display(description=_("الخلاصة"), ordering="source")
    def shown_source(self, obj: FeedImport) -> SafeString:
        return format_html('<span dir="ltr">{}</span>', obj.source)

    @admin.display(description=_("النتيجة"))
    def outcome(self, obj: FeedImport) -> str:
        return feed_reports.refusal_of(obj.refusal) if obj.refusal else str(_("استُوردت"))

    @admin.display(description=_("المدخلات المتروكة وأسبابها"))
    def skipped_list(self, obj: FeedImport) -> SafeString | str:
        rows = [row for row in obj.skipped_entries if isinstance(row, dict)]
        if not rows:
            return "-"
        items = format_html_join(
            "",
            "<li>{} <bdi>{}</bdi>: {}{}</li>",
            (
                (
                    _("المدخل %(n)s") % {"n": digits(row.get("position", ""))},
                    row.get("label", ""),
                    feed_reports.reason_of(row),
                    format_html(' <span dir="ltr">{}</span>', row["detail"]) if row.get("detail") else "",
                )
                for row in rows
            ),
        )
        more = obj.skipped - len(rows)
        tail = format_html("<li>{}</li>", _("و%(n)s غيرها") % {"n": grouped(more)}) if more > 0 else ""
        return format_html("<ul>{}{}</ul>", items, tail)

    @admin.display(description=_("التفاصيل التقنية"))
    def technical(self, obj: FeedImport) -> SafeString | str:
        return format_html('<span dir="ltr">{}</span>', obj.error) if obj.error else "-"
