"""Public web archive of sent editions."""
from django.urls import path

from . import archive_views

app_name = "archive"

urlpatterns = [
    path("", archive_views.archive_list, name="list"),
]
