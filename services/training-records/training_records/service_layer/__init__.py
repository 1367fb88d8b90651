"""Use cases (commands, queries, events), one unit of work each, and the unit of work."""
