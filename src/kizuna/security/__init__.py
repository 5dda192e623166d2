"""Access control: API keys for the HTTP API."""
