"""The analytics tables (described in the package docstring): what readers did with each edition
(StoryClick, Engagement) and the pre-aggregated figures the reports read (EditionStats,
StoryClickStats, DailyGrowth)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from newsletter.delivery.models import EditionSegment


class StoryClick(models.Model):
    """A story a recipient clicked (a human, not a link scanner): the first click only."""

    digest = models.ForeignKey("newsletter.Digest", on_delete=models.CASCADE, related_name="+", db_index=False)
    subscriber = models.ForeignKey("newsletter.Subscriber", on_delete=models.CASCADE, related_name="+")
    article_id = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField()  # in the email the recipient's segment received
    # The recipient's EditionSegment (from their Delivery row when the click was rolled up);
    # NULL for editions sent before segments were recorded.
    segment = models.PositiveIntegerField(null=True, blank=True)
    clicked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "subscriber", "article_id"], name="storyclick_once"),
        ]

    def __str__(self) -> str:
        return f"{self.digest_id}/{self.subscriber_id}/{self.article_id}"


class Engagement(models.Model):
    """What one recipient did with one edition (first occurrence of each)."""

    digest = models.ForeignKey("newsletter.Digest", on_delete=models.CASCADE, related_name="+", db_index=False)
    subscriber = models.ForeignKey("newsletter.Subscriber", on_delete=models.CASCADE, related_name="+")
    human_open_at = models.DateTimeField(null=True, blank=True)
    machine_open_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "subscriber"], name="engagement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.digest_id}/{self.subscriber_id}"


class EditionStats(models.Model):
    """Pre-aggregated figures of one edition (the report reads only this and StoryClickStats)."""

    digest = models.OneToOneField("newsletter.Digest", on_delete=models.CASCADE, primary_key=True, related_name="+")
    audience = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    human_opens = models.PositiveIntegerField(default=0)  # recipients with a human open
    machine_opens = models.PositiveIntegerField(default=0)  # recipients whose only opens were machine
    unique_clicks = models.PositiveIntegerField(default=0)  # recipients who clicked a story
    unsubscribes_72h = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # Retention (newsletter.retention.pruning): the rest of the send report
    # (newsletter.delivery.counts.SendReport), frozen from the Delivery rows right before they
    # are deleted, and when. With `pruned_at` set the roll-up leaves this row alone and the
    # admin's per-edition counts read it instead of the (gone) rows.
    failed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)  # any open the ESP reported
    clicked = models.PositiveIntegerField(default=0)  # any click the ESP reported
    unsubscribed = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    pruned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return str(self.digest_id)


class StoryClickStats(models.Model):
    """Unique clicks per story of an edition and segment, with the story as it was sent. Rows
    of an edition sent before segments were recorded have no segment (its general list)."""

    digest = models.ForeignKey("newsletter.Digest", on_delete=models.CASCADE, related_name="+", db_index=False)
    segment = models.ForeignKey(EditionSegment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    article_id = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=1000)
    unique_clicks = models.PositiveIntegerField(default=0)
    # Readers of the segment who asked for more / less like this story (issue 27).
    more_readers = models.PositiveIntegerField(default=0)
    less_readers = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "position"], condition=models.Q(segment__isnull=True), name="storyclickstats_once"
            ),
            models.UniqueConstraint(  # leads with the edition: the roll-up's and the report's look-up
                fields=["digest", "segment", "position"],
                condition=models.Q(segment__isnull=False),
                name="storyclickstats_once_per_segment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.digest_id}:{self.position}"


class DailyGrowth(models.Model):
    """Subscriber movements per local day (kept after pending signups are purged)."""

    day = models.DateField(primary_key=True)
    signups = models.PositiveIntegerField(default=0)
    confirmations = models.PositiveIntegerField(default=0)
    unsubscribes = models.PositiveIntegerField(default=0)
    bounces = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)  # the roll-up that last counted this day

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return self.day.isoformat()


class EditionArmStats(models.Model):
    """One edition's figures per arm of the personal-editions experiment (newsletter.personal.arms:
    personal or hold-out), rolled up from the Delivery rows' arm, Engagement and StoryClick: the
    report compares the arms with intervals (analytics.experiment)."""

    digest = models.ForeignKey("newsletter.Digest", on_delete=models.CASCADE, related_name="+", db_index=False)
    arm = models.CharField(max_length=1)
    recipients = models.PositiveIntegerField(default=0)  # sent
    human_openers = models.PositiveIntegerField(default=0)  # recipients with a human open
    clickers = models.PositiveIntegerField(default=0)  # recipients who clicked a story
    clicks = models.PositiveIntegerField(default=0)  # stories clicked, summed over recipients
    clicks_squared = models.PositiveIntegerField(default=0)  # Σ (stories one recipient clicked)²
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "arm"], name="edition_arm_once")]

    def __str__(self) -> str:
        return f"{self.digest_id}:{self.arm}"
