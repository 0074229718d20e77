"""Development email backend: every message, exactly as it would be sent, becomes one RFC 5322
`.eml` file in EMAIL_OUTBOX_DIR, so a person can open what was sent.

A message to several recipients is written once per recipient (as an ESP would deliver it),
so `ls var/outbox` shows one file per delivered email.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

_lock = threading.Lock()


class OutboxEmailBackend(BaseEmailBackend):
    def __init__(self, *, outbox_dir: str | Path | None = None, fail_silently: bool = False, **kwargs: object) -> None:
        super().__init__(fail_silently=fail_silently)
        self.outbox_dir = Path(outbox_dir or settings.EMAIL_OUTBOX_DIR)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        written = 0
        for message in email_messages:
            recipients = message.recipients()
            if not recipients:
                continue
            for recipient in recipients:
                self._write(message, recipient)
            written += 1
        return written

    def _write(self, message: EmailMessage, recipient: str) -> Path:
        # Per-recipient copy: an ESP delivers one message per address; headers stay as built.
        single = copy.copy(message)
        if len(message.recipients()) > 1:
            single.to, single.cc, single.bcc = [recipient], [], []
        # Django's SafeMIME classes take linesep (MIMEMixin.as_bytes); the stubs only know Message.
        raw = single.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        safe = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in recipient)[:80]
        path = self.outbox_dir / f"{stamp}-{safe}-{uuid.uuid4().hex[:8]}.eml"
        tmp = path.with_suffix(".tmp")
        with _lock:
            tmp.write_bytes(raw)
            tmp.rename(path)  # atomic: a reader never sees a half-written message
        return path
