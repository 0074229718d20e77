"""Subscriber-facing views (placeholders until the subscriptions work lands)."""
from django.http import HttpRequest, HttpResponse


def signup(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(status=501)


def preferences(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(status=501)


def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(status=501)
