"""The Content-Security-Policy middleware: django-csp's, with the admin's one exception.

The policy itself is CONTENT_SECURITY_POLICY in config.settings. Under the admin, inline styles
are allowed as well: Django's change list writes a <style> block, our admin templates use style
attributes, and the edition preview shows the email itself (all inline CSS, as emails must be)
in a srcdoc iframe, which inherits this page's policy. Scripts stay 'self' everywhere; nonces
are not used because article pages are served from a shared cache (one HTML for every reader),
where a per-response nonce cannot be.

A response that already carries a Content-Security-Policy header (the embeddable signup form
sets its own frame-ancestors) is left as it is: django-csp never overwrites the header.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

ADMIN_PREFIXES = ("/admin/", "/dev/")  # /dev/: the development outbox shows emails as sent
ADMIN_STYLES = {"style-src": ["'self'", "'unsafe-inline'"]}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.replace is None and request.path_info.startswith(ADMIN_PREFIXES):
            parts.replace = ADMIN_STYLES
        return parts
