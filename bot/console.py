"""A console chat with the assistant: one message per input line, buttons as numbered choices."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TextIO

from bot.dialogue.assistant import Dialogue, Reply

logger = logging.getLogger(__name__)


def render(replies: list[Reply], start: int = 1) -> str:
    """Replies as console text; buttons are numbered from `start` so they can be typed."""
    lines: list[str] = []
    number = start
    for reply in replies:
        if reply.text:
            lines.append(f"助手：{reply.text}")
        for title, _payload in reply.buttons:
            lines.append(f"  [{number}] {title}")
            number += 1
    return "\n".join(lines)


def resolve_choice(text: str, buttons: list[tuple[str, str]]) -> str:
    """A typed button number becomes that button's payload; anything else is sent as typed."""
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return buttons[int(text) - 1][1]
    return text


async def chat(
    assistant: Dialogue,
    sender_id: str,
    read_line: Callable[[], str],
    out: TextIO = sys.stdout,
    prompt: str = "",
) -> int:
    """Talk until end of input; returns the number of messages sent."""
    loop = asyncio.get_running_loop()
    buttons: list[tuple[str, str]] = []
    sent = 0
    while True:
        if prompt:
            out.write(prompt)
            out.flush()
        line = await loop.run_in_executor(None, read_line)
        if not line:
            return sent
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit", "退出"):
            return sent
        replies = await assistant.reply(sender_id, resolve_choice(text, buttons))
        sent += 1
        buttons = [b for reply in replies for b in reply.buttons]
        out.write((render(replies) or "助手：（没有回复）") + "\n")
        out.flush()
