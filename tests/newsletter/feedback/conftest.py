"""The `sent` fixture of the feedback tests (tests.newsletter.feedback.sending)."""

import pytest

from tests.newsletter.feedback.sending import send_edition


@pytest.fixture
def sent(settings, time_machine, outbox):
    return send_edition(settings, time_machine, outbox)
