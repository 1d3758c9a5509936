"""Reading an order file (JSON or CSV) into raw orders, whatever spreadsheet or script wrote it.

What a file cannot give is a problem with its position, never an exception: the rows read before
(and, where the format allows, after) a bad one are still imported (docs/importing.md).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

# Tried, in this order, on a file that has no byte-order mark and is not UTF-8: the legacy code
# pages of the product's languages (a Russian Excel saves CSV in Windows-1251, a Chinese one in
# GBK, which GB18030 contains). The detector only chooses among these: left to choose among all
# it knows, it took a short Russian file for GB18030 and a short Chinese one for CP949.
LEGACY_ENCODINGS = ("cp1251", "gb18030")
# UTF-32 LE's mark begins with UTF-16 LE's, so it is looked for first.
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}
DATE_FIELDS = (
    "placed_at",
    "confirmed_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
)
CSV_ORDER_FIELDS = (
    "marketplace",
    "number",
    "seller",
    "currency",
    "paid",
    "shipping",
    "status",
    *DATE_FIELDS,
    "tracking_number",
)
CSV_BUYER_FIELDS = ("telegram_id", "name", "language", "timezone", "phone", "postal_code")
CSV_ITEM_FIELDS = ("sku", "title", "quantity", "unit_price")
CSV_COLUMNS = (
    *CSV_ORDER_FIELDS,
    *(f"buyer_{f}" for f in CSV_BUYER_FIELDS),
    *CSV_ITEM_FIELDS,
)
CSV_REQUIRED = (
    "marketplace",
    "number",
    "seller",
    "currency",
    "paid",
    "status",
    "placed_at",
    *CSV_ITEM_FIELDS,
)
CSV_AMOUNTS = ("paid", "shipping", "unit_price")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


@dataclass
class ImportProblem:
    position: str  # "order 3" (JSON), "line 7" (CSV) or "file"
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


Rows = Iterator[tuple[str, dict[str, Any] | ImportProblem]]


@dataclass
class OrderFile:
    """A file's raw orders, read lazily, and the encoding its text was read in."""

    path: Path
    encoding: str
    text: str

    def rows(self) -> Rows:
        if self.path.suffix.lower() == ".csv":
            return _csv_rows(self.text)
        return _json_rows(self.text)


def open_order_file(path: Path, encoding: str | None = None) -> OrderFile | ImportProblem:
    """The file's text in the encoding given, else the one its bytes show (see LEGACY_ENCODINGS)."""
    found = _decode(path, encoding)
    if isinstance(found, OrderFile):
        # A byte-order mark left by a named encoding would make the first column unknown.
        found.text = found.text.removeprefix("\ufeff")
    return found


def _decode(path: Path, encoding: str | None) -> OrderFile | ImportProblem:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportProblem("file", f"cannot read: {exc.strerror}")
    if encoding is None:
        encoding = next((name for bom, name in BOMS if data.startswith(bom)), None)
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            reason = f"is not {encoding} text: {exc.reason} at byte {exc.start}"
            return ImportProblem("file", reason)
        return OrderFile(path, codecs.lookup(encoding).name.removesuffix("-sig"), text)
    try:
        return OrderFile(path, "utf-8", data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    guess = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if guess is None:
        return ImportProblem(
            "file",
            "cannot tell its encoding: it is not UTF-8, Windows-1251 or GB18030 text; "
            "name the encoding with --encoding",
        )
    return OrderFile(path, codecs.lookup(guess.encoding).name, str(guess))


def json_orders(text: str) -> Rows | ImportProblem:
    """The raw orders of a JSON text, or the problem of the whole text: it is not JSON, or not
    `{"orders": [...]}` or a list of orders. A file's rows and an HTTP push's body are read by
    this one function (docs/shop-api.md)."""
    try:
        # Decimals, not floats: money in the file stays exact. Integers too: Python refuses to
        # read one of over 4,300 digits, which would cost the whole file; as a Decimal it is
        # one order's value out of bounds.
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError as exc:
        return ImportProblem("file", f"cannot read JSON: {exc}")
    except RecursionError:
        return ImportProblem("file", "cannot read JSON: nested too deeply")
    orders = data.get("orders") if isinstance(data, dict) else data
    if not isinstance(orders, list):
        return ImportProblem("file", 'expected {"orders": [...]} or a list of orders')
    return _json_order_rows(orders)


def _json_order_rows(orders: list[Any]) -> Rows:
    for index, raw in enumerate(orders, start=1):
        position = f"order {index}"
        if isinstance(raw, dict):
            yield position, raw
        else:
            yield position, ImportProblem(position, "an order must be an object")


def _json_rows(text: str) -> Rows:
    found = json_orders(text)
    if isinstance(found, ImportProblem):
        return iter([("file", found)])
    return found


def _separator(header: str) -> tuple[str, list[str]] | ImportProblem:
    """The separator that makes the most known column names of the header line, and those
    names; a spreadsheet saves with the one its locale uses (a semicolon where the decimal
    separator is a comma)."""
    best: tuple[int, str, list[str]] = (0, ",", [])
    for separator in SEPARATORS:
        names = [name.strip() for name in next(csv.reader([header], delimiter=separator), [])]
        known = sum(name in CSV_COLUMNS for name in names)
        if known > best[0]:
            best = (known, separator, names)
    known, separator, names = best
    if not known:
        return ImportProblem(
            "line 1",
            "no known column in the header; the columns must be separated by "
            + ", ".join(SEPARATORS.values()).replace(", tabs", " or tabs"),
        )
    missing = [name for name in CSV_REQUIRED if name not in names]
    if missing:
        return ImportProblem(
            "line 1",
            f"the header (separated by {separator!r}) lacks the columns {', '.join(missing)}",
        )
    return separator, names


def _csv_rows(text: str) -> Rows:
    """One line per item; lines of the same order (seller, marketplace, number) are joined."""
    found = _separator(text.split("\n", 1)[0].rstrip("\r"))
    if isinstance(found, ImportProblem):
        yield found.position, found
        return
    separator, _ = found
    grouped: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=separator)
    line_no = 1
    while True:
        try:
            line = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot go on past a line it cannot split; what it read is kept.
            position = f"line {line_no + 1}"
            yield position, ImportProblem(position, f"cannot read this line: {exc}")
            break
        line_no += 1
        position = f"line {line_no}"
        if None in line:
            yield position, ImportProblem(position, "more values than columns")
            continue
        values = {k.strip(): (v or "").strip() for k, v in line.items() if k}
        if separator != ",":
            for name in CSV_AMOUNTS:
                if _DECIMAL_COMMA.match(values.get(name, "")):
                    values[name] = values[name].replace(",", ".")
        problem = _join(grouped, position, values)
        if problem is not None:
            yield position, problem
    yield from ((position, order) for position, order in grouped.values())


def _join(
    grouped: dict[tuple[str, str, str], tuple[str, dict[str, Any]]],
    position: str,
    values: dict[str, str],
) -> ImportProblem | None:
    key = (values.get("seller", ""), values.get("marketplace", ""), values.get("number", ""))
    order: dict[str, Any] = {f: values[f] for f in CSV_ORDER_FIELDS if values.get(f)}
    order["buyer"] = {f: values[f"buyer_{f}"] for f in CSV_BUYER_FIELDS if values.get(f"buyer_{f}")}
    item = {f: values.get(f, "") for f in CSV_ITEM_FIELDS}
    if key not in grouped:
        order["items"] = [item]
        grouped[key] = (position, order)
        return None
    first_position, existing = grouped[key]
    same = all(existing.get(f) == order.get(f) for f in CSV_ORDER_FIELDS)
    if not same or existing["buyer"] != order["buyer"]:
        return ImportProblem(
            position, f"order fields differ from {first_position} of the same order"
        )
    existing["items"].append(item)
    return None
