"""The county office's web console: an aiohttp application over the fupin services (no SQL here)."""
