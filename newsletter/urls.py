"""Subscriber-facing URLs: signup, confirmation, preferences, unsubscribe, embeddable box."""
from django.urls import path

from . import views

app_name = "newsletter"

urlpatterns = [
    path("", views.signup, name="signup"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
