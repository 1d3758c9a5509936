"""A method's parameters, read from the request the way Telegram reads them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.testing.botapi.errors import bad_request


class Params:
    """A method's parameters, typed the way Telegram reads them.

    Clients send form fields (strings; complex values as JSON text) or a JSON body (native values),
    and uploaded files as multipart parts; each getter accepts every one of these forms.
    """

    def __init__(self, values: dict[str, Any], filenames: dict[str, str] | None = None) -> None:
        self._values = values
        # The filename each uploaded part was sent with, by part name.
        self._filenames = filenames or {}

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode(errors="replace")
        return str(value)

    def integer(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def chat_id(self) -> int:
        value = self._values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            # "@channelname" addresses exist, but no such chat exists here.
            raise bad_request("chat not found") from None

    def flag(self, name: str) -> bool:
        return self._values.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str) -> Any:
        value = self._values.get(name)
        if not isinstance(value, str | bytes):
            return value
        try:
            return json.loads(value)
        except ValueError:
            label = "reply keyboard markup" if name == "reply_markup" else name
            raise bad_request(f"can't parse {label} JSON object") from None

    def file(self, name: str) -> bytes | str | None:
        return self.attachment(self._values.get(name))

    def attachment(self, value: Any) -> bytes | str | None:
        """An uploaded file's bytes (given directly or as "attach://<part>"), or a file_id/URL."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = self._values.get(value.removeprefix("attach://"))
        return value if isinstance(value, bytes | str) else None

    def filename(self, name: str) -> str | None:
        """The filename of the file uploaded as `name` (directly or through "attach://<part>")."""
        value = self._values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
        return self._filenames.get(name)


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    filenames: dict[str, str] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if isinstance(body, dict):
            values |= body
    elif request.method == "POST":
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                values[name] = value.file.read()
                filenames[name] = value.filename
            else:
                values[name] = value
    return Params(values, filenames)
