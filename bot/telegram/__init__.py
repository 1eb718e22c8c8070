"""The Telegram front-end (python-telegram-bot 22): handlers, rendering, pushes, retries, flood limit."""
