"""Editions (Digest rows): what an edition holds and when it goes.

- `state`: the one table of edition status transitions and the function that applies them.
- `compose`: identity (one edition per frequency and local date), window, filling from the
  most-read list around the editor's pins and removals.
- `curation`: the editor's changes (order, pins, removals, texts, approval), row-locked.
- `schedule`: when each frequency runs, the next edition, the scheduled run -> delivery.
- `archive`: the public web archive of sent editions (views, feed).
"""
