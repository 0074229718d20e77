"""Admin login throttling beyond django-axes' own rule (issue 23).

django-axes locks a (client network, username) pair out after AXES_FAILURE_LIMIT failures: one
machine (an IPv4 address, an IPv6 /64, sitewide.client_ip.request_limit_address) cannot guess a
password. Guesses spread over many networks against one username are a different attack; this
backend refuses a username, from anywhere and even with the right password, once it has
AXES_USERNAME_FAILURE_LIMIT failures within the cool-off window (AXES_COOLOFF_MINUTES), counted
from django-axes' own attempt rows (no second store). The limit is well above the per-network one,
so a legitimate editor who mistypes is never the one locked out; its cost is that an attacker
who knows a username can lock it for the window (`python manage.py axes_reset` lifts it).

Placed right after axes.backends.AxesStandaloneBackend: like it, it marks the request
(`axes_locked_out`) and raises PermissionDenied, so Django reports a failed login (axes counts it)
and axes' middleware answers with its lockout page in the admin's language.
"""

from __future__ import annotations

from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_lockout_message
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def username_failures(username: str) -> int:
    """Failed logins for `username` within the cool-off window, from every network."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)


class UsernameLockoutBackend:
    """Refuses a username with too many recent failures; authenticates nobody itself."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **kwargs: Any) -> None:
        limit = settings.AXES_USERNAME_FAILURE_LIMIT
        if request is None or not username or limit <= 0:
            return None
        if username_failures(username) >= limit:
            request.axes_locked_out = True  # type: ignore[attr-defined]
            kwargs.get("response_context", {})["error"] = get_lockout_message()
            raise AxesBackendPermissionDenied("too many failed logins for this username")
        return None
