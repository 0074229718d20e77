"""The sunset email's one-click "keep me subscribed" link."""

from django.urls import path

from . import views

app_name = "hygiene"

urlpatterns = [
    path("newsletter/stay/<str:token>/", views.stay, name="stay"),
]
