"""Analytics and list hygiene: what readers did with an edition, how the list grows, and keeping
the list clean without an operator.

Modules (each owns one concern):
- `models`: the tables below.
- `links`: the first-party click URL put on every story of a digest and its signatures (pure).
- `targets`: the Redis map of where those links lead, stored by whoever sends or shows a
  rendered email (rendering returns the targets with the email).
- `heuristics`: which opens are machine opens and which clicks come from link scanners.
- `clicks`: the `/c/` redirect (framework-free, Redis only) and `click_wsgi`, its fast path.
- `events`: ESP tracking events for opens (human or machine) and ESP-reported clicks (called by
  newsletter.esp_tracking after newsletter.delivery.tracking).
- `rollup`: Redis clicks into StoryClick, then the pre-aggregated EditionStats, StoryClickStats
  and DailyGrowth (a beat task every 5 minutes; growth hourly).
- `changes`: which editions changed since the roll-up last aggregated them (a Redis sorted set
  marked by tracking events and new clicks), so an edition past its first days is re-aggregated
  only when something about it moved.
- `reports`: read-only selectors for the admin report, its CSV and the dashboard.
- `hygiene` and `hygiene_emails`: pending reminder, pending purge, soft-bounce suppression,
  the sunset policy, and their two emails.
- `retention`: editions past DELIVERY_RETENTION_DAYS: final roll-up, the send report frozen on
  EditionStats, then their Delivery and Receipt rows deleted in short chunks (a beat task daily).

TABLES (owned here; the reports read only the pre-aggregated ones, never Delivery)
- StoryClick: one row per (edition, subscriber, article) a human clicked; the first click time.
- Engagement: one row per (edition, subscriber) that opened or clicked: first human open, first
  machine open, first click.
- SubscriberActivity: per subscriber, last human open and click, and the hygiene stages
  (reminded, re-engagement sent, unsubscribed as inactive).
- EditionStats: per edition, audience, sent, delivered, bounced, complaints, human opens,
  machine opens, unique clicks, unsubscribes within 72 hours of the send.
- StoryClickStats: per edition and story position: article, title, URL, unique clicks.
- DailyGrowth: per local day, signups, confirmations, unsubscribes, bounces, complaints.

EditionStats and StoryClickStats are written by the roll-up from Delivery, Engagement and
StoryClick for editions that still have Delivery rows and began sending within
ANALYTICS_ROLLUP_DAYS. An edition whose Delivery rows were pruned (retention) is skipped, so its
figures stay as last rolled up and the report keeps showing them.
"""
