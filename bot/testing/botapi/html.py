"""Telegram's HTML parse mode: the text users read and its entities, and the limits on both.

Lengths are counted in UTF-16 code units of the parsed text, as Telegram counts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.testing.botapi.errors import JSON, bad_request

MESSAGE_LIMIT = 4096  # UTF-16 code units of the parsed text
CAPTION_LIMIT = 1024


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: emoji outside the BMP count twice."""
    return len(text.encode("utf-16-le")) // 2


_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_PLAIN_RUN = re.compile(r"[^<&]+")
_CHARACTER_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[^\s>]*")
_TAG_END = re.compile(r"\s*>")
_ATTRIBUTE = re.compile(
    r"""\s*([^\s=>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9.\-]+)))?"""
)
_END_TAG = re.compile(r"</([^\s>]*)\s*>")


class _HtmlError(ValueError):
    """Markup Telegram refuses; the text follows "Bad Request: can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: list[JSON]


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    offset: int  # where its content starts in the parsed text, in UTF-16 code units


def _character(match: re.Match[str]) -> str | None:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_CHARACTERS[named]
    code_point = int(decimal) if decimal else int(hexadecimal, 16)
    if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        return None
    return chr(code_point)


def _unescape_attribute(value: str) -> str:
    # Telegram decodes what it can in attribute values and keeps the rest as typed.
    return _CHARACTER_ENTITY.sub(lambda match: _character(match) or match.group(), value)


class _HtmlParser:
    """Parses parse_mode=HTML text the way Telegram's server (tdlib's parse_html) does.

    Yields the text users read and its entities, or raises _HtmlError with Telegram's wording,
    byte offsets included, so a test failure points at the same place a production error would.
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._pos = 0
        self._chunks: list[str] = []
        self._length = 0
        self._open: list[_OpenTag] = []
        self._entities: list[JSON] = []

    def parse(self) -> ParsedText:
        while self._pos < len(self._source):
            if self._source[self._pos] == "<":
                self._tag()
            elif self._source[self._pos] == "&":
                self._character_entity()
            else:
                run = _PLAIN_RUN.match(self._source, self._pos)
                assert run is not None  # the current character is neither "<" nor "&"
                self._emit(run.group())
                self._pos = run.end()
        if self._open:
            raise _HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self._open[-1].name}"'
            )
        entities = sorted(self._entities, key=lambda entity: (entity["offset"], -entity["length"]))
        return ParsedText("".join(self._chunks), entities)

    def _emit(self, text: str) -> None:
        self._chunks.append(text)
        self._length += utf16_length(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self._source[:pos].encode())

    def _character_entity(self) -> None:
        match = _CHARACTER_ENTITY.match(self._source, self._pos)
        character = _character(match) if match else None
        if match is None or character is None:
            offset = self._byte_offset(self._pos)
            raise _HtmlError(f'Unescaped "&" at byte offset {offset}, use &amp; for it')
        self._emit(character)
        self._pos = match.end()

    def _tag(self) -> None:
        if self._source.startswith("</", self._pos):
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        start = self._pos
        name_match = _TAG_NAME.match(self._source, start + 1)
        assert name_match is not None  # the pattern also matches the empty string
        name, pos = name_match.group().lower(), name_match.end()
        if pos >= len(self._source):
            raise _HtmlError(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        if name not in _ENTITY_TYPES:
            raise _HtmlError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(start)}'
            )
        attributes: dict[str, str] = {}
        while (end := _TAG_END.match(self._source, pos)) is None:
            attribute = _ATTRIBUTE.match(self._source, pos)
            if attribute is None:
                unclosed = not self._source[pos:].strip()
                problem = "Unclosed start tag" if unclosed else f'Bad attribute in tag "{name}"'
                raise _HtmlError(f"{problem} at byte offset {self._byte_offset(start)}")
            value = attribute.group(2) or attribute.group(3) or attribute.group(4) or ""
            attributes[attribute.group(1).lower()] = _unescape_attribute(value)
            pos = attribute.end()
        self._check_attributes(name, attributes, start)
        self._open.append(_OpenTag(name, attributes, self._length))
        self._pos = end.end()

    def _check_attributes(self, name: str, attributes: dict[str, str], start: int) -> None:
        if name == "span" and attributes.get("class") != "tg-spoiler":
            offset = self._byte_offset(start)
            raise _HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise _HtmlError("Invalid custom emoji identifier specified")

    def _end_tag(self) -> None:
        offset = self._byte_offset(self._pos)
        if not self._open:
            raise _HtmlError(f"Unexpected end tag at byte offset {offset}")
        match = _END_TAG.match(self._source, self._pos)
        if match is None:
            raise _HtmlError(f"Unclosed end tag at byte offset {offset}")
        name, expected = match.group(1).lower(), self._open[-1].name
        if name and name != expected:
            raise _HtmlError(
                f'Unmatched end tag at byte offset {offset}, expected "</{expected}>", '
                f'found "</{name}>"'
            )
        self._close(self._open.pop())
        self._pos = match.end()

    def _close(self, tag: _OpenTag) -> None:
        css_class = tag.attributes.get("class", "")
        language = css_class.removeprefix("language-") if css_class.startswith("language-") else ""
        if tag.name == "code" and language and self._open and self._open[-1].name == "pre":
            # <pre><code class="language-x"> is one "pre" entity with a language, not two.
            self._open[-1].attributes["language"] = language
            return
        length = self._length - tag.offset
        if length == 0 or (tag.name == "a" and not tag.attributes.get("href")):
            return
        entity: JSON = {"type": _ENTITY_TYPES[tag.name], "offset": tag.offset, "length": length}
        if tag.name == "a":
            entity["url"] = tag.attributes["href"]
        elif tag.name == "pre" and "language" in tag.attributes:
            entity["language"] = tag.attributes["language"]
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        self._entities.append(entity)


def parse_text(text: str, parse_mode: str | None) -> ParsedText:
    """The text as users read it, with its entities; 400 for markup Telegram would refuse."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return _HtmlParser(text).parse()
        except _HtmlError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    if mode in ("", "markdown", "markdownv2"):
        return ParsedText(text, [])
    raise bad_request("unsupported parse_mode")


def check_message_text(text: str, parse_mode: str | None) -> None:
    parsed = parse_text(text, parse_mode)
    if not parsed.text.strip():
        raise bad_request("message text is empty")
    if utf16_length(parsed.text) > MESSAGE_LIMIT:
        raise bad_request("message is too long")


def check_caption(caption: str | None, parse_mode: str | None) -> None:
    if caption is not None and utf16_length(parse_text(caption, parse_mode).text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
