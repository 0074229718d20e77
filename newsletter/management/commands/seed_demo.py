"""`python manage.py seed_demo`: demo accounts, articles, read traffic and subscribers.
Idempotent: running it again changes nothing that is already there. Development only: the demo
accounts have published passwords, so the command refuses to run with DEBUG off."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles import demo as article_demo
from newsletter import demo as newsletter_demo


class Command(BaseCommand):
    help = "Load demo content (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with published passwords: it runs only with DEBUG on "
                "(development). Create real accounts with `manage.py createsuperuser`."
            )
        with transaction.atomic():
            accounts = newsletter_demo.seed_accounts()
            articles = article_demo.seed_articles()
            subscribers = newsletter_demo.seed_subscribers()
        article_demo.seed_reads()
        self.stdout.write(f"demo content: {articles} articles, {subscribers} subscribers")
        for username, password, role in accounts:
            self.stdout.write(f"  {role}: {username} / {password}")
