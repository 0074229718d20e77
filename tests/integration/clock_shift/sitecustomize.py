"""A moved clock for the processes of the deployment rehearsal (issue 26), shared by all of them.

With this directory on PYTHONPATH and TEST_CLOCK_OFFSET=<seconds> in the environment, Python
imports this module at start-up and moves the process's clock that far from the real one,
ticking (time-machine, as tests/clock.py does for the test process); forked children (gunicorn
and Celery pool processes) keep it. One offset for every host, set when their services start,
so all of them agree on "now" while the beat's 07:00 comes a few seconds later. monotonic() is
never moved: timeouts and sleeps stay real.

libfaketime was the first choice (a Debian package), but the version Debian ships (0.9.10) and
Python 3.11 do not mix: with the monotonic clock left alone time.sleep() fails with EINVAL
(libfaketime#426), and with it moved every lock or Event wait with a timeout hangs.
"""

import os

if os.environ.get("TEST_CLOCK_OFFSET"):
    import time

    import time_machine

    time_machine.travel(time.time() + float(os.environ["TEST_CLOCK_OFFSET"]), tick=True).start()
