"""What a message carries besides its text: inline keyboards and link preview options."""

from __future__ import annotations

import itertools
from typing import Any

from bot.testing.botapi.errors import JSON, bad_request
from bot.testing.botapi.params import Params

CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
# LinkPreviewOptions' fields; Telegram leaves out those that are false or unset.
_LINK_PREVIEW_FIELDS = (
    "is_disabled",
    "url",
    "prefer_small_media",
    "prefer_large_media",
    "show_above_text",
)
# An inline button needs one of these; one with a text only is refused.
_BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "pay", "copy_text", "callback_game"}
    | {"switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat"}
)


def check_reply_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:  # reply keyboards, ForceReply and removals are taken as they are
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Arrays')
    for button in itertools.chain.from_iterable(rows):
        _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 0 < len(data.encode()) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    elif not _BUTTON_ACTIONS & button.keys():
        raise bad_request("text buttons are unallowed in the inline keyboard")


def kept_link_preview(params: Params) -> JSON | None:
    """The link preview options a text message keeps, as Telegram returns them on the sent
    Message and in every update that carries it (a button's `callback_query.message`): the
    options the call set, or `is_disabled` for the older `disable_web_page_preview`. None when
    the call left the preview as it is, and Telegram leaves the field out."""
    options = params.json("link_preview_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("can't parse link preview options JSON object")
    kept: JSON = {
        name: value
        for name, value in (options or {}).items()
        if name in _LINK_PREVIEW_FIELDS and value not in (None, False, "")
    }
    if params.flag("disable_web_page_preview"):
        kept["is_disabled"] = True
    return kept or None


def inline_keyboard(markup: JSON | None) -> JSON | None:
    """The part of a reply_markup that becomes part of the message; the rest is not echoed."""
    return markup if markup is not None and "inline_keyboard" in markup else None
