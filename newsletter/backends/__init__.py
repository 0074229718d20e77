"""Email backends of our own: drop-in subclasses of anymail backends tuned for batch sending."""
