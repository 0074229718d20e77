from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("النشرة الإخبارية")

    def ready(self) -> None:
        from . import (
            esp_tracking,  # noqa: F401  (connects the one ESP tracking receiver)
            tasks,  # noqa: F401  (registers the Celery tasks for newsletter.task_names)
        )
