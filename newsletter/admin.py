"""Newsletter admin (subscribers, editions, deliveries)."""
