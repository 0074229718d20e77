"""List hygiene: keeping the list clean without an operator (the subscriber lifecycle's automatic
side), run from beat.

- `rules`: the pending reminder, the pending purge, soft-bounce suppression and the sunset
  policy; every function idempotent and taking `now`.
- `emails`: the two hygiene emails (the reminder and "still want this?").
- `views`, `urls`: the sunset email's one-click "keep me subscribed" link.
- `conf`: HYGIENE_* and SUNSET_* settings.

Above delivery: soft bounces are counted from the ESP's delivery events.
"""
