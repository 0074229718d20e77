"""`check_host` (issue 26), the deployment checklist's step on every web, worker and beat host:
one line per check, exit 1 naming what failed, and never a password in what it prints (the
rehearsal runs it on separate hosts; these run it here, in process)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

SECRET = "s3cret-Passw0rd"


def test_a_host_that_reaches_everything_says_so_line_by_line() -> None:
    out = StringIO()
    call_command("check_host", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "DATABASE_URL"],
        ["ok", "REDIS_URL"],
        ["ok", "CELERY_BROKER_URL"],
    ], lines
    assert "every migration applied" in lines[0]


def test_wrong_addresses_fail_naming_the_variables_and_never_print_a_password(settings) -> None:
    # Port 1 on this machine: refused at once, as a wrong address in a host's environment file.
    settings.REDIS_URL = f"redis://:{SECRET}@127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = f"amqp://newsletter:{SECRET}@127.0.0.1:1/newsletter"
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("check_host", stdout=out)
    printed = out.getvalue()
    assert "REDIS_URL, CELERY_BROKER_URL" in str(failure.value)
    assert "FAILED  REDIS_URL redis://127.0.0.1:1/0" in printed
    assert "FAILED  CELERY_BROKER_URL amqp://127.0.0.1:1/newsletter" in printed
    assert "ok      DATABASE_URL" in printed
    assert SECRET not in printed + str(failure.value)
