"""Breaking-news alerts (عاجل): an editor sends one article to the readers who opted into alerts.

HOW AN ALERT RIDES THE DELIVERY PIPELINE (the least new code). An alert is an edition row
(`Digest`, frequency "alert", extra, dated its local day) beside an `Alert` row naming the
article, not a table of its own with its own deliveries. So everything the delivery guarantee
(newsletter.delivery's docstring) promises holds for alerts unchanged: one Delivery per
(alert, reader) under the unique constraint, claims as conditional UPDATEs, the sweeper, pause,
resume, cancel, the progress display, retention and the report's figures. What differs is
written at three points only: the audience (newsletter.delivery.alert_audience: opted-in active
readers under ALERTS_PER_DAY on their local day, no waves), the email (newsletter.email.alert,
with its own List-Id and a List-Unsubscribe that ends alerts only) and the batch's grouping (one
email per language). The alternative, an Alert table with its own delivery rows sharing the
claims and transport, would have needed a second copy of dispatch, claims, sweeper, counters and
progress for the same guarantee.

THE CANCEL WINDOW. Confirming creates the alert `approved` with `send_at` = now +
ALERT_CANCEL_SECONDS and enqueues a task with that countdown; the task releases it through
newsletter.orchestration.runs.release (whose dispatch is the conditional draft/approved ->
sending UPDATE). If the task is lost (a broker restart), the minute beat that sends editors'
"schedule at" editions (release_scheduled) sends it: once, whichever comes first. Cancel is the
`withdraw` transition (approved -> cancelled, one conditional UPDATE): it wins only while
nothing was dispatched, so an alert is either cancelled with nothing sent or sent, never both.

Modules: `models` (Alert), `services` (create with the refusals, cancel), `conf` (settings).
"""
