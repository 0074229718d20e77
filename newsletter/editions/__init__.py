"""Editions: what an edition holds (content only; when it goes is newsletter.orchestration).

Vocabulary, in code, admin and README alike: an *edition* is one issue of the daily or weekly
digest (the `Digest` model, one per frequency and local date, plus the *extra* editions an editor
sends early); a *wave* is an edition's copy for the subscribers of one UTC offset (local delivery
time); a *segment* is the readers who get the same email: one language and one choice of topics.

- `models`: Frequency, Language, Digest, DigestItem.
- `state`: the one table of edition status transitions and the function that applies them.
- `compose`: identity (one scheduled edition per frequency and local date), window, filling from
  the most-read list around the editor's pins and removals.
- `curation`: the editor's changes (order, pins, removals, texts, approval), row-locked.
- `segments`: a segment's stories (a topic choice's own most-read, topped up), shared per edition.
- `history`: what readers already got (left out of the next edition unless pinned).
- `variants`: an edition's subject lines for a subject-line test and the test's settings.
- `conf`: DIGEST_TOP_N, DIGEST_MIN_STORIES, DIGEST_REQUIRE_APPROVAL and the subject-line test's defaults.
"""
