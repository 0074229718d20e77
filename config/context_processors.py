"""Template context shared by every page: the site's name and absolute URL."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    return {"SITE_URL": settings.SITE_URL, "SENDER_NAME": settings.SENDER_NAME}
