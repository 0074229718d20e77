"""Public article pages, search and the read beacon."""

from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<str:slug>/", views.article_detail, name="detail"),
    path("tags/<str:slug>/", views.tag_detail, name="tag"),
    path("sections/<str:slug>/", views.section_detail, name="section"),
    path("search/", views.search, name="search"),
    path("r/", views.beacon, name="beacon"),
]
