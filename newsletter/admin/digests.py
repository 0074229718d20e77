"""Digest (edition) admin for editors (owned by the digest work)."""
