from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("النشرة الإخبارية")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the Celery tasks for newsletter.jobs)
        from .analytics import events  # noqa: F401  (connects the opens/clicks receiver)
        from .delivery import tracking  # noqa: F401  (connects the ESP tracking receiver)
