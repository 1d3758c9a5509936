"""The shop file (TOML): sellers, the Telegram ids allowed to decide for each, support, policies.

A seller's policy is either inline (`[sellers.policy]`) or a separate file (`policy = "x.toml"`,
relative to the shop file); the shipped default policy applies when neither is given.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config.toml_errors import LineIndex
from bot.domain.calendar import ALWAYS, Calendar
from bot.domain.policy import Policy

DEFAULTS = Path(__file__).parent / "defaults"
DEFAULT_POLICY = DEFAULTS / "policy.toml"
DEMO_SHOP = DEFAULTS / "shop.toml"
# The languages a seller may choose: one per catalog in templates/locales/ (docs/translations.md;
# tests/test_catalogs.py keeps the two in step).
Language = Literal["en", "ru", "zh"]


@dataclass(frozen=True)
class ConfigProblem:
    file: Path
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else str(self.file)
        where = f" {self.where}:" if self.where else ""
        return f"{place}:{where} {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Moscow") from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    telegram_id: Annotated[int, Field(gt=0)]
    name: str = ""


# What an API key might be called if someone writes one into the shop file by mistake.
SECRET_NAMES = frozenset({"api_key", "api-key", "apikey", "key", "token", "secret"})


def ozon_key_variable(seller_id: str) -> str:
    """The environment variable holding a seller's Ozon API key (docs/ozon.md)."""
    return "RETURNDESK_OZON_API_KEY_" + re.sub(r"[^A-Z0-9]", "_", seller_id.upper())


class OzonConfig(_Strict):
    """`[sellers.ozon]`: the seller's Ozon Seller API account. The API key is a secret and
    comes from the environment or a secrets file, never from here (docs/ozon.md)."""

    client_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]
    # Pull the seller's FBS/rFBS postings as orders on a schedule.
    sync_orders: bool = True


class SellerConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    name: str
    language: Language = "en"
    timezone: str = "UTC"
    deciders: list[Person] = Field(min_length=1)
    policy: Policy
    # Working hours and holidays for business-time promises; always open when not given.
    calendar: Calendar = ALWAYS
    ozon: OzonConfig | None = None

    _tz = field_validator("timezone")(_zone)

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_the_file(cls, data: Any) -> Any:
        ozon = data.get("ozon") if isinstance(data, dict) else None
        if isinstance(ozon, dict) and (found := SECRET_NAMES & {k.lower() for k in ozon}):
            variable = ozon_key_variable(str(data.get("id", "")))
            raise ValueError(
                f"ozon.{sorted(found)[0]}: the API key is a secret and never goes in the shop "
                f"file; remove it from here (and from wherever the file was copied), and set "
                f"{variable} or {variable.replace('_API_KEY_', '_API_KEY_FILE_')} (a file "
                "holding the key) instead (docs/ozon.md)"
            )
        return data


class SupportConfig(_Strict):
    language: Language = "en"
    timezone: str = "UTC"
    # The supergroup with topics where escalated cases are worked (the support desk).
    chat_id: int | None = None
    members: list[Person] = Field(default_factory=list)
    calendar: Calendar = ALWAYS

    _tz = field_validator("timezone")(_zone)


class ShopConfig(_Strict):
    sellers: list[SellerConfig] = Field(min_length=1)
    support: SupportConfig = Field(default_factory=SupportConfig)

    def seller(self, seller_id: str) -> SellerConfig:
        for seller in self.sellers:
            if seller.id == seller_id:
                return seller
        raise KeyError(seller_id)

    @field_validator("sellers")
    @classmethod
    def _unique(cls, sellers: list[SellerConfig]) -> list[SellerConfig]:
        ids = [s.id for s in sellers]
        if len(ids) != len(set(ids)):
            raise ValueError("seller ids must be unique")
        return sellers


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and its tables; a file that is not TOML text is one problem, not a trace."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, None, "", f"cannot read: {exc.strerror}")]) from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # What Windows editors call "Unicode".
        message = "UTF-16 text; a TOML file is UTF-8: save it as UTF-8"
        raise ConfigError([ConfigProblem(path, None, "", message)])
    try:
        # utf-8-sig: Notepad starts a UTF-8 file with a byte-order mark that TOML has no use for.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (a TOML file is UTF-8): {exc.reason} at byte {exc.start}"
        raise ConfigError([ConfigProblem(path, None, "", message)]) from exc
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise ConfigError([ConfigProblem(path, line, "", f"not valid TOML: {exc}")]) from exc
    except RecursionError as exc:
        # tomllib parses arrays and inline tables by recursion: "a = [[[[..." ends its stack.
        message = "not valid TOML: nested too deeply"
        raise ConfigError([ConfigProblem(path, None, "", message)]) from exc


def _problems(path: Path, text: str, error: ValidationError) -> list[ConfigProblem]:
    index = LineIndex(text)
    problems = []
    for item in error.errors():
        loc = [p for p in item["loc"] if p not in ("function-after", "[key]")]
        message = item["msg"].removeprefix("Value error, ")
        problems.append(
            ConfigProblem(path, index.line_of(loc), ".".join(str(p) for p in loc), message)
        )
    return problems


def load_policy(path: Path) -> Policy:
    text, data = _read_toml(path)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(path, text, exc)) from exc


def load_shop(path: Path | None = None) -> ShopConfig:
    path = path or DEMO_SHOP
    text, data = _read_toml(path)
    problems: list[ConfigProblem] = []
    # Sellers of the wrong shape are left for the validation below to explain.
    sellers = data.get("sellers")
    sellers = sellers if isinstance(sellers, list) else []
    for owner in [*sellers, data.get("support")]:
        # A calendar's hours are read in its owner's zone unless it names another.
        if isinstance(owner, dict) and isinstance(owner.get("calendar"), dict):
            owner["calendar"].setdefault("timezone", owner.get("timezone", "UTC"))
    for seller in sellers:
        if not isinstance(seller, dict):
            continue
        policy = seller.get("policy", "default")
        if isinstance(policy, str):
            policy_path = DEFAULT_POLICY if policy == "default" else path.parent / policy
            try:
                seller["policy"] = load_policy(policy_path)
            except ConfigError as exc:
                problems.extend(exc.problems)
                seller["policy"] = load_policy(DEFAULT_POLICY)  # keep checking the rest
        elif isinstance(policy, dict):
            # An inline policy starts from the defaults, so a seller writes only what differs.
            default = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
            seller["policy"] = _merge(default, policy)
    try:
        shop = ShopConfig.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(path, text, exc))
        raise ConfigError(problems) from exc
    if problems:
        raise ConfigError(problems)
    return _with_ical_holidays(shop, path, text)


def _with_ical_holidays(shop: ShopConfig, path: Path, text: str) -> ShopConfig:
    """Read the holidays of calendars that name an .ics file (relative to the shop file)."""
    index = LineIndex(text)
    problems = []
    sellers = []
    for number, seller in enumerate(shop.sellers):
        try:
            sellers.append(
                seller.model_copy(update={"calendar": seller.calendar.with_ical(path.parent)})
            )
        except ValueError as error:
            where: tuple[str | int, ...] = ("sellers", number, "calendar", "holidays_ical")
            problems.append(
                ConfigProblem(path, index.line_of(where), ".".join(map(str, where)), str(error))
            )
    try:
        support = shop.support.model_copy(
            update={"calendar": shop.support.calendar.with_ical(path.parent)}
        )
    except ValueError as error:
        where = ("support", "calendar", "holidays_ical")
        problems.append(
            ConfigProblem(path, index.line_of(where), ".".join(map(str, where)), str(error))
        )
        support = shop.support
    if problems:
        raise ConfigError(problems)
    return shop.model_copy(update={"sellers": sellers, "support": support})


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
