"""Archive pages (placeholder until the digest work lands)."""
from django.http import HttpRequest, HttpResponse


def archive_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
