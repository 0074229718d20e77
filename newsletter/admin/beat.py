"""django-celery-beat's raw screens (periodic tasks, crontab/interval/solar/clocked schedules):
administrators only. Editors change the digest times on the Arabic schedule form
(newsletter.admin.digest_sending.schedule_view), which writes the same rows; the raw screens
expose crontab syntax and every task of the deployment, which is an administrator's job."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class SuperuserOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


def restrict_to_superusers(site: admin.AdminSite, app_label: str = "django_celery_beat") -> None:
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label != app_label or isinstance(model_admin, SuperuserOnly):
            continue
        cls = type(model_admin)
        site.unregister(model)
        site.register(model, type(f"SuperuserOnly{cls.__name__}", (SuperuserOnly, cls), {}))
