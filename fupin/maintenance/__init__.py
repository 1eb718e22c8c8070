"""Operating the database: backups and restores."""
