"""The story rows of an edition's admin page (DigestItem inline). Saving goes through
newsletter.editions.curation (DigestAdmin.save_formset); this module only shows the rows.

Each row shows the story as the editor judges it: thumbnail, full title, section, reads in the
edition's window, and a mark when it went out in the previous edition. Order is the rows'
`position` fields: static/digest_order.js lets editors drag rows and rewrites those fields in
the page (so the typed intro and ticked boxes stay until the one save); without JavaScript the
editor types the positions. An existing row's article is fixed (a hidden field): only the empty
row at the end offers the article search, which also keeps the page light (each search widget
costs a permission check and URL lookups per row); the rows' plain inputs are rendered in Python
(newsletter.admin.row_widgets).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from newsletter.editions import curation
from newsletter.editions.models import Digest, DigestItem
from newsletter.editions.state import EDITABLE_STATUSES
from sitewide import admin_display as display
from sitewide.dates import grouped, semicolon

from . import row_widgets


class DigestItemForm(forms.ModelForm):
    class Meta:
        model = DigestItem
        fields = ["article", "position", "pinned", "for_everyone", "removed"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "article" in self.fields:
            # The story of an existing row never changes (the posted value is ignored); its cell
            # stays under the "article" header, which the add row's search fills.
            self.fields["article"].widget = row_widgets.FixedValueInput()
            self.fields["article"].disabled = True
        # Each row's inputs named for screen readers: the column and the story (the table's
        # cells have no <label> of their own; axe-core: label).
        story = self.instance.article.title if self.instance.pk else ""
        for name in ("position", "pinned", "for_everyone", "removed"):
            if name in self.fields:
                label = str(self.fields[name].label)
                self.fields[name].widget.attrs["aria-label"] = f"{label}: {story}" if story else label
        if "position" in self.fields:
            # Positions shown to editors count from 1, like the email's; a new row starts there too.
            self.fields["position"].widget.attrs.update({"class": "digest-position", "min": 1, "style": "width:4em"})
            if self.instance.pk is None:
                self.initial["position"] = 1
            elif self.instance.removed:
                # A removed story has no place in the edition: no number that a kept row also shows.
                self.fields["position"].widget = row_widgets.FixedValueInput(attrs={"class": "digest-position"})


class DigestItemFormSet(forms.BaseInlineFormSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_class", row_widgets.RowErrors)
        super().__init__(*args, **kwargs)

    def add_fields(self, form: forms.ModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        # After the formset's own id and edition fields are added: every plain input of a row
        # (six per story) is rendered in Python, the largest part of the page's rendering.
        row_widgets.speed_up(form)


class StoryRows(helpers.InlineAdminFormSet):
    """The story rows as the admin template draws them, with an "add another" link that agrees
    with مادة: Django's Arabic "أضِف %(verbose_name)s آخر" is masculine ("أضِف مادة آخر")."""

    def inline_formset_data(self) -> str:
        data = json.loads(super().inline_formset_data())
        data["options"]["addText"] = gettext("أضِف مادة أخرى")
        return json.dumps(data)


def story_rows(inline_admin_formsets: list[helpers.InlineAdminFormSet]) -> list[helpers.InlineAdminFormSet]:
    """DigestAdmin.get_inline_formsets' result with the story rows drawn by StoryRows. Django
    builds its InlineAdminFormSet inside get_inline_formsets with no hook for the class, and the
    wording is all that differs, so the rows' object takes StoryRows' class."""
    for inline_admin_formset in inline_admin_formsets:
        if isinstance(inline_admin_formset.opts, DigestItemInline):
            inline_admin_formset.__class__ = StoryRows
    return inline_admin_formsets


@display.shown(DigestItem, "position")
class DigestItemInline(admin.TabularInline):
    model = DigestItem
    form = DigestItemForm
    formset = DigestItemFormSet
    # No blank row rendered: adding a story needs the article search (a script) anyway, and the
    # "add another" link renders the empty row from its template.
    extra = 0
    template = "admin/newsletter/digest/story_rows.html"
    fields = ["story", "article", "position", "pinned", "for_everyone", "removed"]
    readonly_fields = ["story", "shown_position"]  # shown_position: a sent edition's rows (get_fields)
    autocomplete_fields = ["article"]
    ordering = ["removed", "position", "id"]
    verbose_name = _("مادة")
    verbose_name_plural = _("المواد (اسحب الصفوف لترتيبها أو اكتب الترتيب؛ المثبّتة تبقى عند إعادة التركيب)")

    class Media:
        js = ["digest_order.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Inline instances are made per request: facts are computed once per page.
        self.facts_cache: dict[int, dict[int, curation.StoryFacts]] = {}

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestItem]:
        return super().get_queryset(request).select_related("article__section", "digest")

    def _editable(self, obj: Digest | None) -> bool:
        return obj is None or obj.status in EDITABLE_STATUSES

    def get_fields(self, request: HttpRequest, obj: Digest | None = None) -> Any:
        fields = super().get_fields(request, obj)
        if self._editable(obj):
            return fields
        # Read-only (sending, sent): the position as a number in the page's numerals.
        return [display.PREFIX + name if name == "position" else name for name in fields]

    def has_add_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        # Deleting an item would let a recomposition bring it back: editors tick "removed".
        return False

    def facts(self, digest: Digest) -> dict[int, curation.StoryFacts]:
        if digest.pk not in self.facts_cache:
            self.facts_cache[digest.pk] = curation.story_facts(digest)
        return self.facts_cache[digest.pk]

    @admin.display(description=_("القصة"))
    def story(self, obj: DigestItem) -> str:
        if not obj.pk:
            return ""
        article = obj.article
        fact = self.facts(obj.digest).get(obj.article_id) or curation.StoryFacts(readers=0, in_previous=False)
        thumbnail = (
            format_html(
                '<img src="{}" alt="" width="64" height="40" loading="lazy" '
                'style="width:64px;height:40px;object-fit:cover;float:right;margin-left:8px">',
                article.image_url,
            )
            if article.image_url
            else ""
        )
        repeat = ""
        if fact.in_previous:
            css = "color:#8a6d00" if obj.pinned else "color:#ba2121;font-weight:bold"
            repeat = format_html(
                '{}<span class="digest-repeat" style="{}">{}</span>', semicolon(), css, _("في العدد السابق")
            )
        title = format_html('<strong class="digest-title">{}</strong>', article.title)
        if obj.removed:
            title = format_html(
                '<del class="digest-title">{}</del> <strong class="digest-removed-mark">{}</strong>',
                article.title,
                _("محذوفة: لن تُرسل"),
            )
        return format_html(
            '<span class="digest-handle" aria-hidden="true" style="cursor:move;float:right;margin-left:6px">⠿</span>'
            "{}{}<br><small>{}{}{}{}</small>",
            thumbnail,
            title,
            article.section if article.section is not None else _("بلا قسم"),
            semicolon(),
            _("القرّاء في فترة العدد: %(readers)s") % {"readers": grouped(fact.readers)},
            repeat,
        )
