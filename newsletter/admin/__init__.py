"""Newsletter admin, one module per concern: subscribers (personal data, admins only),
digests (editor curation), deliveries (sending progress and tracking)."""

from . import deliveries, digests, subscribers  # noqa: F401  (registers the ModelAdmins)
