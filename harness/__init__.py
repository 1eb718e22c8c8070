"""Local stand-ins for Telegram and process helpers, used by the tests and the benchmarks, never by the bot."""
