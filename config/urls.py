"""Root URLconf."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from sitewide import health

# A 403 in the user's language, inside the admin's frame there (sitewide/errors.py).
handler403 = "sitewide.errors.permission_denied"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on every page whatever the HTML says: answer with the icon.
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "favicon.ico", permanent=True)),
    path("admin/", admin.site.urls),
    path("newsletter/", include("newsletter.subscribers.urls")),
    path("archive/", include("newsletter.archive.urls")),
    path("anymail/", include("newsletter.delivery.webhooks")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("newsletter.clicks.urls")),
    path("", include("newsletter.feedback.urls")),
    path("", include("newsletter.hygiene.urls")),
    path("", include("articles.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    from newsletter.backends import outbox_views

    urlpatterns = [
        path("dev/outbox/", outbox_views.outbox_list, name="outbox"),
        path("dev/outbox/<str:name>", outbox_views.outbox_message, name="outbox-message"),
        *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
        *urlpatterns,
    ]
