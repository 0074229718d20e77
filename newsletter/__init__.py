"""Newsletter: subscribers, digests, rendering, sending and tracking."""
