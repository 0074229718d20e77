"""Editions (Digest rows): what an edition holds and when it goes.

- `state`: the one table of edition status transitions and the function that applies them.
- `compose`: identity (one edition per frequency and local date), window, filling from the
  most-read list around the editor's pins and removals.
- `curation`: the editor's changes (order, pins, removals, texts, approval), row-locked.
- `segments`: a segment's stories (a topic choice's own most-read, topped up), shared per edition.
- `history`: the previous edition's articles (left out of the next one unless pinned).
- `audience`: active subscribers per (language, topics), for the confirmation step and preview.
- `timetable`: the beat rows, read (when each frequency runs) and written (the schedule form).
- `schedule`: the next edition (one meaning), the scheduled run -> delivery, send now / schedule at.
- `waves`: local delivery time, one wave per UTC offset, one edition per reader per period.
- `archive` (`archive_urls`): the public web archive of sent editions (views, feed).
"""
