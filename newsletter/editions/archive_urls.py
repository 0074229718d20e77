"""Public web archive of sent editions: list, one page per edition, RSS feed."""

from django.urls import path

from . import archive as archive_views

app_name = "archive"

urlpatterns = [
    path("", archive_views.archive_list, name="list"),
    path("feed/", archive_views.ArchiveFeed(), name="feed"),
    path("<str:frequency>/<int:year>-<int:month>-<int:day>/", archive_views.archive_detail, name="detail"),
]
