"""The Telegram front-end (python-telegram-bot 22): handlers, rendering, pushes, retries, flood limit."""

# How Telegram users are stored (users.channel) and addressed in the outbox.
CHANNEL = "telegram"
