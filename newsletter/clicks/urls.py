"""The click redirect's URL (config.wsgi answers it first, with the same logic, before Django)."""

from django.urls import path

from . import redirect

app_name = "clicks"

urlpatterns = [
    path("c/<str:story>/<str:token>/", redirect.click, name="click"),
]
