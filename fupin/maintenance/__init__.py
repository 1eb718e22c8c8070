"""Keeping the data healthy: backups, and personal data removed once it is no longer needed."""
