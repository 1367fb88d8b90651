"""Use cases (one unit of work each), event handlers and read views."""
