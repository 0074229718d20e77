"""Newsletter admin, one module per concern: subscribers (personal data, admins only),
digests (editor curation) and their sending views, deliveries (sending progress and tracking),
django-celery-beat's raw screens kept for administrators (beat) and the
users' and groups' permission rows in Arabic (accounts)."""

from django.contrib import admin

from sitewide import conf as site_conf

from . import accounts, alerts, beat, deliveries, digests, subscribers  # noqa: F401  (registers the ModelAdmins)

# The header and titles carry the sender's name, not "Django administration".
admin.site.site_header = site_conf.site().SENDER_NAME
admin.site.site_title = site_conf.site().SENDER_NAME
beat.restrict_to_superusers(admin.site)
accounts.arabic_permission_screens(admin.site)
