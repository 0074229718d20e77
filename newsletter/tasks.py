"""Thin Celery tasks for the newsletter: each takes ids and calls a service function.
Tasks are triggered with transaction.on_commit / delay_on_commit so they see committed rows."""
