"""One class per resource family of the HTTP API."""
