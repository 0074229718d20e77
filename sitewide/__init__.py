"""Site-wide helpers every room uses, and nothing product-specific: dates and numerals in one style
(`dates`, with the `site_dates` template tags), time zone names (`zones`), the client IP behind
trusted proxies (`client_ip`), the Redis client and its Lua scripts (`redis_client`), cached pages
with a CSRF slot (`cached_pages`), admin list display (`admin_display`), mail-merge slots and
spreadsheet-safe cells (`mail_merge`, `spreadsheet`), and the request plumbing the settings name by
string: request ids and log redaction (`logging`), the Content-Security-Policy exceptions (`csp`),
the 403 page (`errors`), `/healthz` (`health`), login limits (`login_limits`), the template
context (`context_processors`). It imports no other app of the project: `articles` and
`newsletter` stand on it."""
