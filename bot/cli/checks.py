"""What `returndesk run` checks before it starts, and `returndesk config check` checks alone:
every setting, the token's form, the shop file with its policies, and the
templates with a seller's RETURNDESK_TEMPLATES folder. Every problem is collected, so one run
names them all; the database, the media store and Telegram are asked only by `run`, which
needs them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import ConfigOption, console, errors
from bot.config.settings import (
    ApiSettings,
    DatabaseSettings,
    HealthSettings,
    HttpSettings,
    LimitsSettings,
    LinkSettings,
    LogSettings,
    MediaSettings,
    OzonSettings,
    RetentionSettings,
    SenderSettings,
    SettingsError,
    ShopSettings,
    SweeperSettings,
    TelegramSettings,
    UnderstandingSettings,
    UpdateSettings,
    ozon_api_key,
    read,
)
from bot.config.shop import ConfigError, ShopConfig, load_shop
from bot.rendering import Renderer
from bot.rendering.overrides import override_problems
from bot.runtime.shop_api.tokens import SellerTokens
from bot.runtime.telegram.roles import Role
from bot.runtime.telegram.service import SetupError, check_telegram
from bot.storage.database import DatabaseURLError, usable_url

RoleOption = Annotated[
    Role,
    typer.Option(
        "--role",
        "-r",
        help="What this process runs: all (default); web (takes updates on the webhook, "
        "several behind a load balancer); sender (delivers replies); sweeper (acts on due "
        "promises; needs no token). Every role may run in several processes on one "
        "PostgreSQL database.",
        case_sensitive=False,
    ),
]

config = typer.Typer(help="The bot's configuration.", no_args_is_help=True)


@dataclass
class Checked:
    """Everything `run` starts with, read once and found usable."""

    database: DatabaseSettings
    telegram: TelegramSettings
    sender: SenderSettings
    sweeper: SweeperSettings
    updates: UpdateSettings
    http: HttpSettings
    health: HealthSettings
    ozon: OzonSettings
    api: ApiSettings
    retention: RetentionSettings
    media: MediaSettings
    limits: LimitsSettings
    shop: ShopConfig
    renderer: Renderer


class ConfigurationError(SettingsError):
    """Problems of the settings, the shop file and the templates, together."""


def preflight(shop_file: Path | None, role: Role = Role.ALL) -> Checked:
    """Every check made before start of `role`, or ConfigurationError with all the problems
    found. The token only for a role that calls Telegram: not the sweeper's."""
    problems: list[str] = []

    def section(kind: type[Any]) -> Any:
        try:
            return read(kind)
        except SettingsError as error:
            problems.extend(error.problems)
            return None

    database: DatabaseSettings | None = section(DatabaseSettings)
    shop_settings: ShopSettings | None = section(ShopSettings)
    telegram: TelegramSettings | None = section(TelegramSettings)
    sections = {
        kind: section(kind)
        for kind in (
            SenderSettings,
            SweeperSettings,
            UpdateSettings,
            HttpSettings,
            HealthSettings,
            LogSettings,
            MediaSettings,
            LimitsSettings,
            LinkSettings,
            UnderstandingSettings,
            OzonSettings,
            ApiSettings,
            RetentionSettings,
        )
    }
    if database is not None:
        try:
            usable_url(database.url)
        except DatabaseURLError as error:
            problems.append(f"RETURNDESK_DATABASE_URL: {error}")
    if telegram is not None and role.calls_telegram:
        try:
            check_telegram(telegram)
        except SetupError as error:
            problems.append(str(error))
    shop = None
    shop_file = shop_file or (shop_settings.config if shop_settings else None)
    try:
        shop = load_shop(shop_file)
    except ConfigError as error:
        problems.extend(str(problem) for problem in error.problems)
    problems.extend(_keys_problems(shop, sections[OzonSettings], sections[ApiSettings]))
    renderer = None
    try:
        renderer = Renderer()
    except Exception as error:  # a catalog of the seller's folder that cannot be read
        problems.append(f"RETURNDESK_TEMPLATES: {type(error).__name__}: {error}")
    else:
        problems.extend(override_problems(renderer))
    if problems:
        raise ConfigurationError(problems)
    assert database is not None
    assert telegram is not None
    assert shop is not None
    assert renderer is not None
    return Checked(
        database=database,
        telegram=telegram,
        sender=sections[SenderSettings],
        sweeper=sections[SweeperSettings],
        updates=sections[UpdateSettings],
        http=sections[HttpSettings],
        health=sections[HealthSettings],
        ozon=sections[OzonSettings],
        api=sections[ApiSettings],
        retention=sections[RetentionSettings],
        media=sections[MediaSettings],
        limits=sections[LimitsSettings],
        shop=shop,
        renderer=renderer,
    )


def _keys_problems(
    shop: ShopConfig | None, ozon: OzonSettings | None, api: ApiSettings | None
) -> list[str]:
    """Each Ozon seller's API key (when orders are pulled) and the shop API's tokens: named,
    never shown (docs/ozon.md, docs/shop-api.md)."""
    problems: list[str] = []
    if shop is not None and ozon is not None and ozon.sync_every > 0:
        for seller in shop.sellers:
            if seller.ozon is not None and seller.ozon.sync_orders:
                try:
                    ozon_api_key(seller.id)
                except SettingsError as error:
                    problems.extend(error.problems)
    if api is not None:
        try:
            if shop is not None:
                SellerTokens.load(api, shop)  # the same reading the shop API does at start
            else:
                api.seller_tokens()  # no shop file to compare with: the tokens alone
        except SettingsError as error:
            problems.extend(error.problems)
    return problems


@config.command("check")
def check(config: ConfigOption = None, role: RoleOption = Role.ALL) -> None:
    """Check the settings, the shop file and the templates as `returndesk run --role ROLE`
    does at start, without starting anything (the database and Telegram are not asked). Exit
    code 0: all is well; 2: the problems are listed."""
    try:
        checked = preflight(config, role)
    except ConfigurationError as error:
        errors.print("[bold red]The configuration has problems:[/]")
        for problem in error.problems:
            errors.print(f"  {problem}", markup=False)
        raise typer.Exit(2) from error
    sellers = len(checked.shop.sellers)
    overrides = checked.renderer.overrides
    console.print(
        f"The configuration is usable: {sellers} seller{'s' if sellers != 1 else ''}, "
        f"templates{f' with {overrides}' if overrides else ''}.",
        markup=False,
        soft_wrap=True,
    )
