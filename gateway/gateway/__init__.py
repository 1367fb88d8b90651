"""The Bildungsportal edge: route table, nginx configuration, run modes and the browser UI."""
