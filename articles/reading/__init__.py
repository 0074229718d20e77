"""Read counting: who read what, without SQL on the read path, and the most-read ranking.

- `reads`: one Redis script per read (views, distinct readers, the per-network cap).
- `visitors`: the signed reader cookie and the daily IP+UA hash.
- `beacon` and `wsgi`: reads from another CMS (`/r/`), and its fast path in front of Django.
- `rollup`: the counters into ArticleDailyStats (`models`), idempotently.
- `ranking`: `most_read(start, end, limit, sections=None, tags=None)`.
- `conf`: READS_* settings.

Above content: it counts reads of published articles (content.published).
"""
