"""Users and groups in the Arabic admin: permission rows named in Arabic.

Django names a permission "Can add digest" (data written by its post-migrate hook, in English
whatever the language) and a group's permission link rows "Group-permission relationship:
Group_permissions object (7)" on the group's delete page. Both are shown here as
"صلاحية إضافة «نشرة»" from the permission's action and its model's (Arabic) verbose name; the
stored names stay as Django writes them."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTIONS = {"add": _("إضافة"), "change": _("تعديل"), "delete": _("حذف"), "view": _("عرض")}
ROW_ID = re.compile(r"\((\d+)\)$")


def permission_label(permission: Permission) -> str:
    action, _sep, _rest = permission.codename.partition("_")
    model = permission.content_type.model_class()
    if action not in ACTIONS or model is None:
        return permission.name  # a custom permission: its name is what its author wrote
    return gettext("صلاحية %(action)s «%(model)s»") % {"action": ACTIONS[action], "model": model._meta.verbose_name}


class ArabicPermissions:
    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if (
            isinstance(field, ModelMultipleChoiceField)
            and field.queryset is not None
            and field.queryset.model is Permission
        ):
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label  # type: ignore[assignment,method-assign]
        return field


class ArabicGroupDeletion:
    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)  # type: ignore[misc]
        through: Any = Group.permissions.through
        prefix = f"{capfirst(through._meta.verbose_name)}: "
        ids = [pk for text in _flatten(deleted) if (pk := _row_pk(text, prefix)) is not None]
        labels = {
            row.pk: permission_label(row.permission)
            for row in through.objects.filter(pk__in=ids).select_related("permission__content_type")
        }

        def relabel(items: list[Any]) -> list[Any]:
            return [
                relabel(item) if isinstance(item, list) else labels.get(_row_pk(item, prefix), item) for item in items
            ]

        if through._meta.verbose_name_plural in counts:
            counts[gettext("صلاحيات المجموعة")] = counts.pop(through._meta.verbose_name_plural)
        return relabel(deleted), counts, perms_needed, protected


def _row_pk(text: Any, prefix: str) -> int | None:
    """The link row's id in Django's "<verbose name>: <model> object (<id>)" line, else None."""
    match = ROW_ID.search(text) if isinstance(text, str) and text.startswith(prefix) else None
    return int(match.group(1)) if match else None


def _flatten(items: list[Any]) -> list[Any]:
    return [text for item in items for text in (_flatten(item) if isinstance(item, list) else [item])]


def arabic_permission_screens(site: admin.AdminSite) -> None:
    """Re-register User and Group with the Arabic permission labels (keeping their admins)."""
    for model, mixins in ((Group, (ArabicGroupDeletion, ArabicPermissions)), (get_user_model(), (ArabicPermissions,))):
        current = site._registry.get(model)
        if current is None or isinstance(current, ArabicPermissions):
            continue
        site.unregister(model)
        site.register(model, type(f"Arabic{type(current).__name__}", (*mixins, type(current)), {}))
