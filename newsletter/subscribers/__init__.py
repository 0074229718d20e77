"""Subscribers: the reader's side of the list.

- `lifecycle`: signup with double opt-in, confirm, preferences, unsubscribe, resubscribe;
  `signup_insert`: a new signup and its history row in one statement.
- `privacy`: erase (the one way to remove a subscriber) and the per-subscriber data export.
- `consent` and `models`: the append-only consent history (ConsentEvent) and who writes it.
- `addresses`: normalising addresses, keyed hashes, the suppression list.
- `tokens` and `links`: signed, purpose-bound tokens and the absolute links that carry them.
- `ratelimits`: per-IP and per-address limits on signups (Redis).
- `emails`: the confirmation and "already subscribed" emails.
- `csv_io`: CSV import (with a preview) and streaming export.
- `forms`, `views`, `urls`: the public pages (signup, confirm, preferences, unsubscribe, embed).
"""
