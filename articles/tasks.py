"""Thin Celery tasks for articles: each takes plain arguments and calls a service function."""
