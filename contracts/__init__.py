"""The contract suite: proves that a consumer handles every documented event type and edge case."""
