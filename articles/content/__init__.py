"""Content: articles, their sections and tags, and how they get in.

- `models`: Section, Tag, Article, FeedImport. `services`: saving (sanitise, slug, hashtags),
  publishing, tag merging, search. `arabic`: normalisation and hashtags. `images`: uploads checked
  by content and their email copies. `urls_safety`: http(s)-only links.
- `feeds`, `feed_parse`, `feed_fetch`, `feed_reports`: feed import (refusing entity declarations
  and private addresses, skipping and reporting bad entries).
- `published`: the Redis index of published articles the read beacon validates against.
- `conf`: FEED_* settings.
"""
