"""The story rows of an edition's admin page (DigestItem inline). Saving goes through
newsletter.editions.curation (DigestAdmin.save_formset); this module only shows the rows."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..editions.state import EDITABLE_STATUSES
from ..models import Digest, DigestItem


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    extra = 1
    fields = ["article", "position", "pinned", "removed", "move_buttons"]
    readonly_fields = ["move_buttons"]
    autocomplete_fields = ["article"]
    ordering = ["removed", "position", "id"]
    verbose_name = _("مادة")
    verbose_name_plural = _("المواد (المثبّتة تبقى عند إعادة التركيب، والمحذوفة لا تعود)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestItem]:
        return super().get_queryset(request).select_related("article", "digest")

    def _editable(self, obj: Digest | None) -> bool:
        return obj is None or obj.status in EDITABLE_STATUSES

    def has_add_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Digest | None = None) -> bool:
        # Deleting an item would let a recomposition bring it back: editors tick "removed".
        return False

    @admin.display(description=_("نقل"))
    def move_buttons(self, obj: DigestItem) -> str:
        if not obj.pk or obj.removed or obj.digest.status not in EDITABLE_STATUSES:
            return ""
        # formaction: these buttons submit the change form's CSRF token to the move view.
        return format_html(
            '<button type="submit" class="button" formaction="{}" formmethod="post" title="{}">▲</button> '
            '<button type="submit" class="button" formaction="{}" formmethod="post" title="{}">▼</button>',
            reverse("admin:newsletter_digest_move", args=[obj.digest_id, obj.pk, "up"]),
            _("إلى الأعلى"),
            reverse("admin:newsletter_digest_move", args=[obj.digest_id, obj.pk, "down"]),
            _("إلى الأسفل"),
        )
