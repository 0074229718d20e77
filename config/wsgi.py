"""The one WSGI entry point: `gunicorn config.wsgi:application`.

Django's application with two fast paths in front of its middleware stack, for the two requests
a send and a busy site make most: the click redirect `/c/...` (newsletter.clicks.wsgi)
and the read beacon `/r/` (articles.reading.wsgi). Each answers its own path with the same logic
as its Django view and no SQL; every other path goes to Django unchanged. `django_application`
is Django alone (the benchmarks compare the two).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

# Imported once Django is set up: the fast paths read settings and the apps' modules.
from articles.reading.wsgi import BeaconFastPath  # noqa: E402
from newsletter.clicks.wsgi import ClickFastPath  # noqa: E402

application = ClickFastPath(BeaconFastPath(django_application))
