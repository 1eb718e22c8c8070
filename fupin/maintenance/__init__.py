"""Operating the database: backups and restores, and personal data removed once it is no longer needed."""
