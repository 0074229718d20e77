"""Retention: old editions' per-recipient rows frozen into their figures, then pruned in short
chunks (`pruning`), and the send report that reads the frozen figures once the rows are gone. A
room of its own above analytics and delivery: the freeze runs the analytics roll-up."""
