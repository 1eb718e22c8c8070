"""A local fake Telegram Bot API server for end-to-end tests of a real python-telegram-bot Application.

The server is aiohttp in a background thread with its own event loop, on 127.0.0.1 and a free port, so
synchronous test code and the bot's own event loop can both use it. It speaks the Bot API as PTB sends it
(form-encoded or multipart bodies whose complex values are JSON strings) and answers as Telegram does
(`ok`/`result`, or `ok: false` with `error_code`, `description` and `parameters.retry_after`).

Behaviour choices worth knowing in tests:

* Updates fed with send_text/press/send_document/share_contact wait in one queue. Without a webhook they
  are returned by getUpdates until confirmed by a later `offset`; after setWebhook they are POSTed to the
  webhook URL one at a time, in order, with the X-Telegram-Bot-Api-Secret-Token header. A failed POST
  (refused connection, non-2xx answer) is recorded in `webhook_errors` and in getWebhookInfo's
  last_error_*, and retried with a growing pause, as Telegram does; deleteWebhook leaves undelivered
  updates for getUpdates.
* fail_next(..., delay=s) with a 2xx status performs the call at once (the message is stored and listed by
  sent_to, the Call gets status 200) and only then waits before answering. A client that times out
  meanwhile gets TimedOut although the message was delivered, as with the real server; tests can check
  that the bot does not send it twice. With an error status the server waits, then answers the error
  and delivers nothing.
* getUpdates honours offset (confirming what lies below it; negative keeps the last -offset), limit and
  timeout, and answers a long poll as soon as an update arrives or the server stops. A newer getUpdates
  ends an older one still waiting with 409 Conflict, and getUpdates while a webhook is set gets 409, as on
  Telegram. allowed_updates (from getUpdates or setWebhook) applies to updates fed afterwards: those of
  other types are dropped with a warning in the log, which is how a bot that forgot "callback_query" fails.
* A chat is reachable unless block() or never_started() was called for it; an update fed from that user
  afterwards clears both (the user unblocked the bot, or started it).
* Message texts are stored and listed as the user sees them: with parse_mode HTML the tags are parsed
  into entities, and leading and trailing whitespace is stripped; the 4096 limit applies to that text.
  The HTML check is stricter than Telegram's in one point: a '&' that starts no escape is refused.
* Editing a message's text without reply_markup removes its inline keyboard, as on Telegram.
* press() accepts any data, also one no longer on the message (a user tapping a stale keyboard).
"""

from harness.fake_telegram.errors import ApiError
from harness.fake_telegram.html import parse_html, utf16_length
from harness.fake_telegram.server import FakeTelegram
from harness.fake_telegram.state import DEFAULT_TOKEN, Call, Sent, Upload

__all__ = ["DEFAULT_TOKEN", "ApiError", "Call", "FakeTelegram", "Sent", "Upload", "parse_html", "utf16_length"]
