"""Delivery: sending an edition to its audience, exactly once, and hearing back from the ESP.

Modules (each owns one concern):
- `dispatch`: the audience snapshot and enqueueing the batch tasks; `send_all_sync` for --sync.
- `batch`: one batch: claim, re-check the audience, render per segment, hand to `transport`.
- `claims`: every status move of a Delivery row (claims and bookkeeping), as conditional UPDATEs.
- `transport`: the ESP connection, the batch-call and per-recipient paths, one error handler.
- `recipients`: per-recipient merge values (unsubscribe/preferences links) for a whole batch.
- `outcomes`: RetryLater, BatchResult, backoff, and giving up after SEND_MAX_ATTEMPTS.
- `timing`: where a batch's time goes (the timings of its "batch done" log line).
- `sweeper`: recovery without Redis or the original worker (point 6 below).
- `controls`: pause, resume, cancel.
- `counts`: per-edition counts for the admin and `send_digest --sync`.
- `test_sends`: an editor's test send of a segment's email to a few addresses.
- `subject_split`: a subject-line test's share (each row's subject line) and its held rest.
- `models`: Delivery, Receipt, DeliveryEvent, EditionSegment. `conf`: SEND_* settings.
- `esp`: ESP profiles and error classification (data, one decision point);
  `throttle`: one send rate shared by all workers; `tracking` and `webhooks`: ESP events.
Edition status changes go through newsletter.editions.state (one transition table).

THE DELIVERY GUARANTEE (tests/newsletter/delivery/ and tests/integration/ test exactly this)
=====================================================================================================
The database is the truth. The broker (Redis or RabbitMQ), Redis (throttle, click targets) and the
workers may die at any moment.

1. One Delivery row per (edition, subscriber), enforced by a unique constraint. `dispatch()` moves
   the Digest draft/approved -> sending with one conditional UPDATE and, in the same transaction,
   snapshots the audience (active subscribers of the edition's frequency) with one
   INSERT ... SELECT ... ON CONFLICT DO NOTHING, numbering batches in SQL. A second dispatch,
   concurrent or later, finds the Digest no longer draft/approved and does nothing. Batch tasks
   are enqueued on commit, so they always see the rows. A subject-line test changes none of
   this: its rest is `held` on the same rows (not pending, never claimed) and turned into
   `queued` once, by the edition's choose-winner transition (`subject_split`).

2. A Delivery moves  queued -> claimed -> sending -> sent | failed | unknown  (or -> skipped).
   Every move is a conditional UPDATE on the current status (and, from claimed on, on the claim
   token `claimed_at`), so two copies of a batch task (a redelivery after a worker died, a
   visibility-timeout redelivery, a sweeper re-enqueue, a double resume) never both take a row:
   the loser finds no queued rows and returns.

3. `sending` is written immediately before the ESP call, `sent` immediately after the ESP
   accepted. A row therefore reaches the ESP at most once, except in one window (below).

4. Retry only when the ESP clearly did not accept: connection refused, connect timeout, HTTP 429,
   HTTP 5xx (newsletter.delivery.esp.classify_error). Those rows go back to `queued` and the batch task is
   retried with exponential backoff and jitter (SEND_RETRY_BASE_SECONDS .. SEND_RETRY_MAX_SECONDS,
   far below the broker's visibility_timeout), at most SEND_MAX_ATTEMPTS ESP attempts per row,
   then `failed`. A read timeout or a connection dropped after the request went out is `unknown`:
   shown in the admin, never resent blindly. 4xx refusals are `failed`.

5. Status is re-checked when the batch runs: a subscriber who is no longer active is `skipped`
   (with the reason in `error`), never mailed. A segment with too few stories is `skipped` too.

6. The sweeper (`sweep()`, every minute) makes progress without Redis or the original worker:
   rows `claimed` longer than SEND_STUCK_AFTER_SECONDS go back to `queued` (a claimed row has not
   been handed to the ESP); batches with rows `queued` longer than that are enqueued again;
   rows `sending` longer than that become `unknown` (they may have been accepted). With the
   60 s defaults a killed worker's batches are finished within about two minutes.

7. Pause leaves queued rows queued (batch tasks of a paused edition return at once); resume
   re-enqueues the batches that still have queued rows, so nobody already sent is sent again;
   cancel turns the remaining queued rows into `skipped`.

THE RESIDUAL WINDOW (at-most-once, stated honestly): if a worker dies after writing `sending` and
before writing `sent`, we cannot know whether the ESP accepted the call. Those rows become
`unknown` and are NOT resent, so a subscriber in that window receives the edition once (the ESP
accepted before the crash) or not at all (the crash came before the request left); never twice.
SEND_STUCK_AFTER_SECONDS must exceed the ESP request timeout (ANYMAIL REQUESTS_TIMEOUT, 5+30 s),
or a slow but live call could be settled as unknown while it is still running.
"""
