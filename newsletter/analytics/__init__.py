"""Analytics: what readers did with an edition and how the list grows, pre-aggregated for the
reports.

Modules (each owns one concern):
- `models`: the tables below.
- `heuristics`: which opens are machine opens and which clicks come from link scanners.
- `events`: ESP tracking events for opens (human or machine) and ESP-reported clicks (called by
  newsletter.esp_tracking after newsletter.delivery.tracking).
- `rollup`: clicks from the Redis log (newsletter.clicks) into StoryClick, then the
  pre-aggregated EditionStats, StoryClickStats (`story_stats`) and DailyGrowth (`growth`); a beat
  task every 5 minutes, growth hourly.
- `changes`: which editions changed since the roll-up last aggregated them (a Redis sorted set
  marked by tracking events and new clicks), so an edition past its first days is re-aggregated
  only when something about it moved.
- `arm_stats`: the roll-up's figures per arm of the personal-editions experiment
  (EditionArmStats: personal or hold-out, from each Delivery row's arm).
- `figures`: read-only selectors for the admin report, its CSV and the dashboard; `charts`.
- `experiment`: personal editions against the hold-out: the arms' rates and clicks per
  recipient with 95% intervals, the lift with its interval, "too few to tell" (the statistics
  in its docstring); selectors for one edition and the last 30 days.
- `conf`: ANALYTICS_* settings (the click-tracking switch is newsletter.email's).
Click tracking is newsletter.clicks, list hygiene newsletter.hygiene, retention
newsletter.retention.

TABLES (owned here; the reports read only the pre-aggregated ones, never Delivery)
- StoryClick: one row per (edition, subscriber, article) a human clicked; the first click time.
- Engagement: one row per (edition, subscriber) that opened or clicked: first human open, first
  machine open, first click.
- EditionStats: per edition, audience, sent, delivered, bounced, complaints, human opens,
  machine opens, unique clicks, unsubscribes within 72 hours of the send.
- StoryClickStats: per edition and story position: article, title, URL, unique clicks.
- DailyGrowth: per local day, signups, confirmations, unsubscribes, bounces, complaints.
- EditionArmStats: per edition and arm (personal, hold-out), recipients, human openers,
  clickers, stories clicked and the sum of their squares.
The roll-up also writes SubscriberActivity (newsletter.subscribers.models: last human open and
click, which list hygiene reads) and reads EditionSegment (newsletter.delivery.models).

EditionStats, StoryClickStats and EditionArmStats are written by the roll-up from Delivery,
Engagement and StoryClick for editions that still have Delivery rows and began sending within
ANALYTICS_ROLLUP_DAYS. An edition whose Delivery rows were pruned (newsletter.retention) is
skipped, so its figures stay as last rolled up and the report keeps showing them.
"""
