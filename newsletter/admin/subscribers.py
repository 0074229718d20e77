"""Subscriber admin (owned by the subscriptions work)."""
