"""Orchestration: when an edition goes, and to whom first. Above delivery, which it hands editions
to; editions themselves (their content) are below.

- `timetable`: the beat rows, read (when each frequency's run fires) and written (the editors'
  schedule form), in the newsroom's time zone.
- `runs`: the next edition (one meaning), the scheduled run, send now, schedule at, and the
  release of an edition to delivery (never twice; an early send becomes an extra edition).
- `waves`: local delivery time: one wave per UTC offset, one edition per reader per period.
- `welcome`: the welcome email after confirmation (what arrives and when, in the reader's zone).
- `conf`: DIGEST_LOCAL_TIME.
"""
