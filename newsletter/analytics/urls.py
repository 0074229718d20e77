"""Reader-facing analytics URLs: the click redirect and the sunset email's stay link."""

from django.urls import path

from . import clicks, views

app_name = "analytics"

urlpatterns = [
    path("c/<str:story>/<str:token>/", clicks.click, name="click"),
    path("newsletter/stay/<str:token>/", views.stay, name="stay"),
]
