"""Schema revisions of the vote store, oldest first (0001, 0002, ...)."""
