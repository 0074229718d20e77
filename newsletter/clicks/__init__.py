"""Click tracking: a reader's click on a story link, answered and logged with no SQL.

- `redirect`: the `/c/<story>/<recipient>/` redirect, framework-free (`handle`) and as a view.
- `wsgi`: its fast path in front of Django (config.wsgi puts it there).
- `targets`: the Redis map of where an edition's links lead, stored by whoever sends or shows an
  email (rendering returns the targets with the email; newsletter.email.links builds the URLs).
- `clicklog`: the Redis log of clicks the analytics roll-up reads.

Below delivery (which stores targets before an email leaves) and analytics (which rolls the log
up); above subscribers (the recipient part is a signed token) and email (the URL format).
"""
