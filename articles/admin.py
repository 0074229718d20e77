"""Admin for editors: articles, sections, tags."""
from django.contrib import admin

from .models import Article, Section, Tag

admin.site.register(Article)
admin.site.register(Section)
admin.site.register(Tag)
