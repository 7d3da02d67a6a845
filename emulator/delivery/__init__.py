"""Delivery: the durable SQLite outbox, the retry policy and the HTTP dispatcher."""
