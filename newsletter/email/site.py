"""Absolute URLs for everything that leaves the site (emails, feeds, the archive): one builder
for SITE_URL + path, and the UTM parameters digest links carry."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings


def absolute_url(url: str) -> str:
    if not url or urlsplit(url).scheme:
        return url
    return f"{settings.SITE_URL}{url if url.startswith('/') else '/' + url}"


def with_utm(url: str, *, campaign: str) -> str:
    """Append DIGEST_UTM_PARAMS (and a utm_campaign naming the edition unless configured)."""
    params = parse_qsl(settings.DIGEST_UTM_PARAMS, keep_blank_values=True)
    if not params:
        return url
    if not any(key == "utm_campaign" for key, _ in params):
        params.append(("utm_campaign", campaign))
    parts = urlsplit(url)
    existing = parse_qsl(parts.query, keep_blank_values=True)
    keys = {key for key, _ in existing}
    query = urlencode(existing + [(k, v) for k, v in params if k not in keys])
    return urlunsplit(parts._replace(query=query))
