"""Delivery admin and the sending controls shown on an edition (owned by the sending work).

DIGEST_SENDING_ACTIONS and DIGEST_SENDING_READONLY are imported by the digest admin
(newsletter.admin.digests) so pause/resume/cancel and the per-edition counts live here."""

DIGEST_SENDING_ACTIONS: list = []
DIGEST_SENDING_READONLY: list[str] = []
