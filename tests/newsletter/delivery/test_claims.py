"""Row bookkeeping (newsletter.delivery.claims): every move is guarded on the status it expects,
on both ways of recording what the ESP accepted."""

from __future__ import annotations

from typing import Any

import pytest
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send

from newsletter.delivery import batch, dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db
D = Delivery.Status


def test_per_recipient_message_ids_never_overwrite_a_row_the_sweeper_settled(settings) -> None:
    """An ESP that answers one message id per recipient (more than ten distinct outcomes) takes
    the bulk path (claims.settle_individually). While the API call is in flight the sweeper settles
    one row as `unknown` (it may have been accepted, it is never resent): recording the answer
    must leave that row `unknown` and must not count it as sent too."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    digest = make_digest()
    make_subscribers(15)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    settled_by_sweeper: list[int] = []

    def during_the_call(sender: Any, message: Any, esp_name: str, **kwargs: Any) -> None:
        row = Delivery.objects.filter(digest=digest, status=D.SENDING).order_by("id").first()
        assert row is not None
        Delivery.objects.filter(id=row.id, status=D.SENDING).update(status=D.UNKNOWN, error="sweeper")
        Digest.objects.filter(id=digest.id).update(unknown_count=1)
        settled_by_sweeper.append(row.id)
        message.anymail_test_response = {
            "recipient_status": {
                address: AnymailRecipientStatus(message_id=f"id-{n}", status="queued")
                for n, address in enumerate(message.to)
            }
        }

    pre_send.connect(during_the_call, weak=False)
    try:
        result = batch.send_batch(digest_id=digest.id, batch=0)
    finally:
        pre_send.disconnect(during_the_call)

    assert settled_by_sweeper, "the ESP call never happened"
    row = Delivery.objects.get(id=settled_by_sweeper[0])
    assert row.status == D.UNKNOWN and row.esp_message_id == ""
    assert result.sent == 14
    assert Delivery.objects.filter(digest=digest, status=D.SENT).count() == 14
    digest.refresh_from_db()
    assert digest.sent_count + digest.unknown_count == 15  # nobody counted twice
