"""Template context shared by every page: the site's name and absolute URL, the privacy policy."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    return {
        "SITE_URL": settings.SITE_URL,
        "SENDER_NAME": settings.SENDER_NAME,
        "PRIVACY_POLICY_URL": settings.PRIVACY_POLICY_URL,
    }
