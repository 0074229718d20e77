"""The "more / less like this" links of a digest's stories (newsletter.email.links builds them)."""

from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("f/<str:story>/<str:choice>/<str:token>/", views.feedback_view, name="feedback"),
]
