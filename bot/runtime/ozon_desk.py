"""Ozon's returns and cancellations, read and acted on (docs/ozon.md).

`pull` reads each Ozon seller's rFBS returns (with their detail), FBO/FBS returns and
conditional cancellations waiting for approval, keeps them (bot/services/ozon_returns.py), and
has the engine open a case or show a card for each new one, once per key. `carry_out` takes the
sellers' decisions waiting to be carried out and calls Ozon, never inside a transaction: first
it looks the return up (a decision sent before a crash is not sent again: its action is then no
longer offered), then it acts, writes Ozon's answer in a short transaction of its own, and has
the engine record it once. An API refusal is an outcome; Ozon not answering leaves the decision
waiting for the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.clock import Clock
from bot.config.settings import OzonSettings, SettingsError
from bot.config.shop import SellerConfig, ShopConfig
from bot.domain.money import Money
from bot.engine.events import Author, Incoming
from bot.engine.own_events import (
    OzonCancellationActed,
    OzonCancellationIn,
    OzonReturnActed,
    OzonReturnIn,
)
from bot.engine.payloads import Payload
from bot.engine.processor import Engine
from bot.marketplaces.ozon import OzonApiError, OzonClient, OzonError
from bot.marketplaces.ozon.errors import OzonShapeError
from bot.marketplaces.ozon.models import Unreadable
from bot.marketplaces.ozon.unconfirmed import Fact, met
from bot.runtime.ozon import OzonSync, make_client, ozon_sellers
from bot.services import ozon_returns as ozon
from bot.storage.database import Database
from bot.storage.models import Order, OzonReturn
from bot.storage.transaction import Transaction

log = logging.getLogger(__name__)
OZON = Author(0, "ozon")
PAGE = 100
MOST_PAGES = 50  # a pass reads at most this many pages of each list


@dataclass
class DeskPass:
    returns: int = 0  # rFBS returns taken in
    cancellations: int = 0
    seller_returns: int = 0  # FBO/FBS returns
    carried_out: int = 0
    refused: int = 0
    set_aside: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class OzonDesk:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        engine: Engine,
        shop: ShopConfig,
        settings: OzonSettings,
        client_for: Callable[[SellerConfig], OzonClient] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.engine = engine
        self.shop = shop
        # Clients made by another (the order sync's, sharing its rate limit) are its to close.
        self._owns = client_for is None
        self._client_for = client_for or (lambda seller: make_client(seller, settings))
        self._clients: dict[str, OzonClient] = {}

    def client(self, seller_id: str) -> OzonClient:
        if seller_id not in self._clients:
            seller = next(s for s in self.shop.sellers if s.id == seller_id)
            self._clients[seller_id] = self._client_for(seller)
        return self._clients[seller_id]

    async def close(self) -> None:
        if self._owns:
            for client in self._clients.values():
                await client.close()
        self._clients.clear()

    async def run_once(self) -> DeskPass:
        done = DeskPass()
        for seller in ozon_sellers(self.shop):
            try:
                await self.pull(seller.id, done)
            except (OzonError, SettingsError) as error:
                done.errors.append(f"{seller.id}: {error}")
                log.warning("Ozon returns of %s not read, next time: %s", seller.id, error)
        await self.announce()
        await self.carry_out(done)
        await self.record()
        return done

    # -- reading -------------------------------------------------------------------------------

    async def pull(self, seller_id: str, done: DeskPass) -> None:
        client = self.client(seller_id)
        last_id: int | None = None
        for _ in range(MOST_PAGES):
            page = await client.list_rfbs_returns(limit=PAGE, last_id=last_id)
            now = self.clock.now()
            async with self.db.unit() as tx:
                await _set_aside(tx, seller_id, "return", page.unreadable, done=done, now=now)
                known = await ozon.known_returns(tx, seller_id, [r.return_id for r in page.returns])
            for summary in page.returns:
                row = known.get(summary.return_id)
                if row is not None and row.ozon_state == summary.state and row.case_id is not None:
                    continue  # nothing new since it was read
                try:
                    detail = await client.get_rfbs_return(summary.return_id)
                except (OzonApiError, OzonShapeError) as error:
                    # This one return cannot be read: set aside with why, the others land.
                    why = error.message if isinstance(error, OzonApiError) else error.reason
                    async with self.db.unit() as tx:
                        await ozon.set_aside(
                            tx,
                            seller_id,
                            f"return:{summary.return_id}",
                            why,
                            raw={"return_id": summary.return_id},
                            now=now,
                        )
                    done.set_aside.append((str(summary.return_id), why))
                    continue
                async with self.db.unit() as tx:
                    taken = await ozon.take_return(tx, seller_id, summary, detail, now)
                if taken is None:
                    done.set_aside.append((str(summary.return_id), "no such order"))
                else:
                    done.returns += 1
            if len(page.returns) + len(page.unreadable) < PAGE or page.last_id is None:
                break
            last_id = page.last_id
        await self._pull_cancellations(seller_id, client, done)
        page2 = await client.list_returns(limit=PAGE)
        async with self.db.unit() as tx:
            await ozon.take_seller_returns(tx, seller_id, page2.returns, self.clock.now())
        done.seller_returns += len(page2.returns)

    async def _pull_cancellations(self, seller_id: str, client: OzonClient, done: DeskPass) -> None:
        last_id: int | None = None
        for _ in range(MOST_PAGES):
            page = await client.list_cancellations(limit=PAGE, last_id=last_id, state="ON_APPROVAL")
            now = self.clock.now()
            async with self.db.unit() as tx:
                await _set_aside(tx, seller_id, "cancellation", page.unreadable, done=done, now=now)
                for found in page.cancellations:
                    await ozon.take_cancellation(tx, seller_id, found, now)
                    done.cancellations += 1
            if not page.cancellations or page.last_id is None or page.last_id == last_id:
                break
            if len(page.cancellations) + len(page.unreadable) < PAGE:
                break
            last_id = page.last_id

    async def announce(self) -> None:
        """A case or a card for each return and cancellation read and not yet shown."""
        async with self.db.reading() as tx:
            returns = [(r.id, r.seller_id) for r in await ozon.to_open(tx)]
            cancellations = [(c.id, c.seller_id) for c in await ozon.cancellations_to_show(tx)]
        for row_id, seller_id in returns:
            await self._event(f"ozon:return:{row_id}", seller_id, OzonReturnIn(row_id=row_id))
        for row_id, seller_id in cancellations:
            await self._event(
                f"ozon:cancellation:{row_id}", seller_id, OzonCancellationIn(row_id=row_id)
            )

    # -- acting --------------------------------------------------------------------------------

    async def carry_out(self, done: DeskPass) -> None:
        async with self.db.reading() as tx:
            returns = await ozon.pending_returns(tx)
            cancellations = await ozon.pending_cancellations(tx)
        for row_id, return_id, seller_id, action_id, seq in returns:
            try:
                await self._carry_out_return(
                    row_id, return_id, seller_id, action_id, seq, done=done
                )
            except OzonError as error:  # not answering: tried again next pass
                log.warning("Ozon return %s: decision not carried out yet: %s", return_id, error)
        for row_id, cancellation_id, seller_id, posting, decision in cancellations:
            try:
                await self._carry_out_cancellation(
                    row_id, cancellation_id, seller_id, posting, decision, done=done
                )
            except OzonError as error:
                log.warning("Ozon cancellation %s: not carried out yet: %s", cancellation_id, error)

    async def _carry_out_return(
        self,
        row_id: int,
        return_id: int,
        seller_id: str,
        action_id: int,
        seq: int,
        *,
        done: DeskPass,
    ) -> None:
        client = self.client(seller_id)
        # Looked up first: a decision sent before a crash left the return without its action.
        now_on_ozon = await client.get_rfbs_return(return_id)
        status, error = ozon.DONE, None
        if now_on_ozon.action(action_id) is None:
            met(Fact.ACTION_DONE_GUESSED, f"return {return_id}, action {action_id}")
        else:
            async with self.db.reading() as tx:
                row = await tx.session.get(OzonReturn, row_id)
                assert row is not None
                order = await tx.session.get(Order, row.order_id) if row.order_id else None
                amount = row.act_amount_minor
                comment, reason_id = row.act_comment, row.act_reason_id
                currency = order.currency if order else "RUB"
            compensation = None
            if action_id == ozon.COMPENSATE_ID and amount is not None:
                compensation = _major(amount, currency)
            try:
                await client.set_rfbs_return_action(
                    return_id,
                    action_id,
                    comment=comment,
                    rejection_reason_id=reason_id,
                    compensation_amount=compensation,
                )
            except OzonApiError as refused:
                status, error = ozon.FAILED, refused.message or str(refused)
            else:
                now_on_ozon = await client.get_rfbs_return(return_id)
        async with self.db.unit() as tx:
            await ozon.outcome(
                tx,
                row_id,
                seq,
                status=status,
                error=error,
                now=self.clock.now(),
                detail=now_on_ozon,
            )
        if status == ozon.DONE:
            done.carried_out += 1
        else:
            done.refused += 1
        await self._event(
            f"ozon:acted:{row_id}:{seq}", seller_id, OzonReturnActed(row_id=row_id, seq=seq)
        )

    async def _carry_out_cancellation(
        self,
        row_id: int,
        cancellation_id: int,
        seller_id: str,
        posting: str,
        decision: str,
        *,
        done: DeskPass,
    ) -> None:
        client = self.client(seller_id)
        found = await client.list_cancellations(limit=PAGE, posting_numbers=[posting])
        current = next(
            (c for c in found.cancellations if c.cancellation_id == cancellation_id), None
        )
        wanted = "APPROVED" if decision == "approve" else "REJECTED"
        status, error, state = ozon.DONE, None, wanted
        if current is None or current.state != "ON_APPROVAL":
            state = current.state if current else ""
            if state != wanted:  # decided otherwise already (auto-approved, or on the site)
                status, error = ozon.FAILED, f"already {state or 'gone'} on Ozon"
        else:
            try:
                if decision == "approve":
                    await client.approve_cancellation(cancellation_id)
                else:
                    await client.reject_cancellation(cancellation_id)
            except OzonApiError as refused:
                status, error, state = ozon.FAILED, refused.message or str(refused), ""
        async with self.db.unit() as tx:
            await ozon.cancellation_outcome(
                tx, row_id, status=status, error=error, state=state, now=self.clock.now()
            )
        done.carried_out += status == ozon.DONE
        done.refused += status == ozon.FAILED
        await self._event(
            f"ozon:cancellation-acted:{row_id}", seller_id, OzonCancellationActed(row_id=row_id)
        )

    async def record(self) -> None:
        """Outcomes written but not yet recorded by the engine (a crash came between)."""
        async with self.db.reading() as tx:
            returns = await ozon.unrecorded_returns(tx)
            cancellations = await ozon.unrecorded_cancellations(tx)
        for row_id, seq, seller_id in returns:
            await self._event(
                f"ozon:acted:{row_id}:{seq}", seller_id, OzonReturnActed(row_id=row_id, seq=seq)
            )
        for row_id, seller_id in cancellations:
            await self._event(
                f"ozon:cancellation-acted:{row_id}",
                seller_id,
                OzonCancellationActed(row_id=row_id),
            )

    async def _event(self, key: str, seller_id: str, payload: Payload) -> None:
        chat = self._chat_of(seller_id)
        await self.engine.process(
            Incoming(key=key, author=OZON, chat_id=chat, payload=payload.pack(), system=True)
        )

    def _chat_of(self, seller_id: str) -> int:
        """Events of the seller's are ordered in their first decider's chat."""
        for seller in self.shop.sellers:
            if seller.id == seller_id and seller.deciders:
                return seller.deciders[0].telegram_id
        return 0


async def run_with_orders(
    sync: OzonSync, engine: Engine, stop: asyncio.Event, every_minutes: float
) -> None:
    """Inside `returndesk run`: every `every_minutes`, the orders first (a return or a
    cancellation names an order the pull has to know), then the returns and cancellations and
    the decisions waiting to be carried out, on the same clients (one rate limit a Client-Id)."""
    desk = OzonDesk(
        db=sync.db,
        clock=sync.clock,
        engine=engine,
        shop=sync.shop,
        settings=sync.settings,
        client_for=sync.client,
    )
    every = every_minutes * 60
    while not stop.is_set():
        try:
            await sync.sync_all()
        except Exception:
            log.exception("Ozon sync failed; trying again in %s min", every_minutes)
        try:
            await desk.run_once()
        except Exception:
            log.exception("Ozon returns pass failed; trying again in %s min", every_minutes)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    await desk.close()


def _major(minor: int, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount


async def _set_aside(
    tx: Transaction,
    seller_id: str,
    kind: str,
    unreadable: Sequence[Unreadable],
    *,
    done: DeskPass,
    now: datetime,
) -> None:
    """A page's records that cannot be read, kept with why (`<kind>:<Ozon's id>`); the others
    land."""
    for bad in unreadable:
        await ozon.set_aside(tx, seller_id, f"{kind}:{bad.key}", bad.reason, raw=bad.raw, now=now)
        done.set_aside.append((bad.key, bad.reason))
