"""Template context shared by every page: the site's name and absolute URL, the privacy policy."""

from django.conf import settings
from django.http import HttpRequest

from . import conf


def site(request: HttpRequest) -> dict[str, str]:
    return {
        "SITE_URL": settings.SITE_URL,
        "SENDER_NAME": conf.site().SENDER_NAME,
        "PRIVACY_POLICY_URL": conf.site().PRIVACY_POLICY_URL,
    }
