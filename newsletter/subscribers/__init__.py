"""Subscribers: the reader's side of the list.

- `models`: Subscriber, Suppression, ConsentEvent (the consent history), SubscriberActivity.
- `lifecycle`: signup with double opt-in, confirm, preferences, unsubscribe, resubscribe;
  `signup` and `signup_insert`: a new signup and its history row in one statement.
- `consent`: the append-only consent history and who writes it.
- `addresses`: normalising addresses, keyed hashes, the suppression list.
- `tokens` and `token_links`: signed, purpose-bound tokens and the absolute links that carry them.
- `ratelimits`: per-IP and per-address limits on signups (Redis).
- `emails`: the confirmation and "already subscribed" emails.
- `csv_io`: CSV import (with a preview) and streaming export. `audience`: active subscribers
  per segment, for the send step and previews.
- `forms`, `views`, `unsubscribe_views`, `pages`, `urls`: the public pages (signup, confirm,
  preferences, unsubscribe, embed).
- `conf`: CONSENT_TEXT_VERSION, CONFIRMATION_MAX_AGE_DAYS, SIGNUP_* and SUBSCRIBER_IMPORT_MAX_ROWS.
Erase and the data export span rooms: newsletter.privacy. List hygiene: newsletter.hygiene.
"""
