"""Public web archive of sent editions: list, one page per edition, RSS feed.

An edition's address carries its date as ISO 8601 (`/archive/daily/2026-12-03/`). Links emailed
before the dates were zero-padded (`2026-12-3`) still open the edition: the view redirects them."""

from datetime import date

from django.urls import path, register_converter

from . import views


class EditionDateConverter:
    regex = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"

    def to_python(self, value: str) -> str:
        return value  # validated (and redirected when not canonical) by the view

    def to_url(self, value: date | str) -> str:
        return value.isoformat() if isinstance(value, date) else value


register_converter(EditionDateConverter, "edition_date")

app_name = "archive"

urlpatterns = [
    path("", views.archive_list, name="list"),
    path("feed/", views.ArchiveFeed(), name="feed"),
    path("<str:frequency>/<edition_date:day>/", views.archive_detail, name="detail"),
    # A day's second edition (sent early by an editor): /archive/daily/2026-12-03/2/
    path("<str:frequency>/<edition_date:day>/<int:number>/", views.archive_detail, name="detail"),
]
