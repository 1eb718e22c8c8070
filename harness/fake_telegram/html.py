"""Telegram's HTML parse mode and text rules as the fake Bot API applies them (UTF-16 lengths, trimming)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.fake_telegram.errors import ApiError


def utf16_length(text: str) -> int:
    """A text's length in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    language: str | None = None


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ESCAPE_RE = re.compile(r"&(?:(lt|gt|amp|quot);|#([0-9]{1,7});|#[xX]([0-9a-fA-F]{1,6});)")
_NAMED_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _parse_error(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_escape(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ESCAPES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _parse_error(f"invalid character reference {match.group(0)}")
    return chr(code)


def _tag_attrs(body: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(body):
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), "")
        attrs[name.lower()] = _ESCAPE_RE.sub(_decode_escape, value)
    return attrs


def _closed_entity(tag: _OpenTag, end: int, parent: _OpenTag | None) -> dict[str, Any] | None:
    if tag.name == "code" and parent is not None and parent.name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language, as Telegram parses it.
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            parent.language = language.removeprefix("language-")
            return None
    if end == tag.start:
        return None
    entity: dict[str, Any] = {"type": _HTML_ENTITY_TYPES[tag.name], "offset": tag.start, "length": end - tag.start}
    if tag.name == "a":
        if not tag.attrs.get("href"):
            return None
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    return entity


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and entities of an HTML-formatted text, or ApiError 400 as Telegram answers."""
    out: list[str] = []
    offset = 0  # in UTF-16 code units of the visible text
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            match = _ESCAPE_RE.match(text, index)
            if match is None:
                raise _parse_error(f"unescaped '&' at byte offset {_byte_offset(text, index)}")
            decoded = _decode_escape(match)
            out.append(decoded)
            offset += utf16_length(decoded)
            index = match.end()
            continue
        if char != "<":
            out.append(char)
            offset += utf16_length(char)
            index += 1
            continue
        where = _byte_offset(text, index)
        end = text.find(">", index)
        if end == -1:
            raise _parse_error(f"Unclosed start tag at byte offset {where}")
        if text.startswith("</", index):
            name = text[index + 2 : end].strip().lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {where}")
            if name != stack[-1].name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {where}, expected "</{stack[-1].name}>", found "</{name}>"'
                )
            tag = stack.pop()
            entity = _closed_entity(tag, offset, stack[-1] if stack else None)
            if entity is not None:
                entities.append(entity)
        else:
            body = text[index + 1 : end]
            match = _TAG_NAME_RE.match(body)
            name = match.group(0).lower() if match else ""
            if name not in _HTML_ENTITY_TYPES:
                raise _parse_error(f'Unsupported start tag "{name}" at byte offset {where}')
            attrs = _tag_attrs(body[len(name) :])
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
            stack.append(_OpenTag(name, offset, attrs))
        index = end + 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    # Telegram trims a message's leading and trailing whitespace; entities move with the text.
    stripped = text.strip()
    prefix = utf16_length(text[: len(text) - len(text.lstrip())])
    total = utf16_length(stripped)
    moved: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - prefix, 0)
        end = min(entity["offset"] + entity["length"] - prefix, total)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved
