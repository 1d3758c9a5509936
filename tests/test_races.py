"""Races, searched for by hypothesis: buyers, deciders, support and the sweeper act at once
through the engine, on SQLite and on PostgreSQL, and after every round three things hold.

- **No update is lost.** Every update the engine took is in the transcript once. It was
  applied, or refused with an answer, and never failed: a failure is what a deadlock that no
  new try cured looks like from outside. A replayed update is recognised as one.
- **No over-refund.** Each order's refunded total is the sum of its refunds that stand, and
  never more than was paid.
- **Each person is told the truth.** What the bot told someone it did is in the database, as
  often as it said so: agreements (with their refunds), withdrawals, escalations,
  resolutions, the deciders' decisions, and "Already decided by X".

A round is two to five moves run together with asyncio.gather. A move is:
- a tap on any button its person was ever shown (stale ones too);
- a support command in a case's topic;
- a buyer asking for a person;
- a decider typing an amount;
- a sweep;
- a replay of an earlier update.
Between rounds the clock may jump, so promises fall due. Examples and steps are few, so that
each backend takes some tens of seconds (docs/locking.md).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text
from sqlalchemy.orm.exc import DetachedInstanceError

from bot.clock import FakeClock
from bot.config.shop import ShopConfig
from bot.engine.events import Incoming, Outcome
from bot.engine.processor import Engine
from bot.runtime.sweeper import Sweeper
from bot.sandbox import Participant
from bot.storage.database import Database
from bot.storage.models import (
    Base,
    Case,
    CaseEvent,
    Decision,
    Order,
    Refund,
    SupportTopic,
    TranscriptEntry,
)
from bot.telemetry.metrics import Metrics
from handlers.payloads import Alternative, BuyerOffer, Done, Menu, SellerOffer, Take, Withdraw
from tests.conftest import POSTGRES_URL, START
from tests.conversations.test_partial_refund import describe_defect
from tests.desk import BUYERS as BUYER_PEOPLE
from tests.desk import STAFF, Desk

BUYERS = ("anna", "mallory")
DECIDERS = ("dora", "dmitri")
SUPPORT = "sam"
SUPPORT_SAYS = ("/take", "/offer 300", "/refund 200", "/handback", "/resolve done", "Hello")
EXAMPLES = 10
STEPS = 12
PRICES = ("2000", "5000")  # 600 is offered at once; 1500 waits for a decider
RECENT = 8  # the newest messages with buttons whose buttons a person may still press
# The buttons that decide something (payload prefixes, handlers/payloads.py): answers to offers,
# deciders' decisions and alternatives, "Refund sent", taking a case, withdrawing one, and the
# menu's "Talk to a person".
DECISIVE = (
    *(f"{p.__prefix__}:" for p in (BuyerOffer, SellerOffer, Alternative, Done, Take, Withdraw)),
    Menu(action="person").pack(),
)
# What the bot tells a buyer it did, and the step of the case's history that records it.
TOLD_BUYER = {
    "buyer/agreed": "agreed",
    "buyer/withdrawn": "withdrawn",
    "buyer/escalated": "escalated",
    "buyer/resolved": "resolved_by_support",
}
ALREADY_DECIDED = re.compile(r"Already decided by (.+)\.$")


def _refusal_of_a_case(error: BaseException) -> bool:
    """Issue 17 item 2, fixed on its own branch: a refusal that names a case is rendered after
    its transaction was rolled back, and raises out of the engine (`buyer/cannot_withdraw`,
    `support/not_escalated`). Races reach it often (a withdrawal as support takes the case; a
    second /resolve). Tolerated here only in that exact form, so that this machine checks the
    rest; once that fix is merged it never matches, and this function should go."""
    frames = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
    return "_refuse" in frames


@dataclass(frozen=True)
class Move:
    """One thing someone does; `run` does it through the engine and says what happened."""

    name: str
    run: Callable[[], Awaitable[list[tuple[Incoming, Outcome]]]]


class Recording:
    """The engine as the sweeper sees it, noting every update and outcome (the sweeper's
    own events are updates too, and must not be lost either)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[Incoming, Outcome]] = []

    @property
    def shop(self) -> ShopConfig:
        return self.engine.shop

    @property
    def metrics(self) -> Metrics:
        return self.engine.metrics

    async def process(self, event: Incoming) -> Outcome:
        outcome = await self.engine.process(event)
        self.seen.append((event, outcome))
        return outcome


class Races(RuleBasedStateMachine):
    backend: ClassVar[str]
    migrated: ClassVar[str]
    workdir: ClassVar[Path]
    examples: ClassVar[itertools.count[int]] = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.db, self.desk = self.loop.run_until_complete(self._open())
        self.keys = itertools.count(1)
        self.applied: list[Incoming] = []  # user updates the engine applied, for replays
        self.answers: list[tuple[Incoming, str]] = []  # "Already decided by X" pop-ups

    async def _open(self) -> tuple[Database, Desk]:
        workdir = self.workdir / f"example-{next(self.examples)}"
        workdir.mkdir()
        if self.backend == "sqlite":
            path = workdir / "returndesk.db"
            shutil.copyfile(self.migrated, path)
            db = Database(f"sqlite+aiosqlite:///{path}")
        else:
            db = Database(POSTGRES_URL, schema=self.migrated)
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            async with db.engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return db, await Desk.open(db, FakeClock(START), workdir)

    def teardown(self) -> None:
        self.loop.run_until_complete(self._close())
        self.loop.close()

    async def _close(self) -> None:
        await self.desk.close()
        await self.db.dispose()

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    # -- rules --------------------------------------------------------------------------------
    @initialize(prices=st.tuples(st.sampled_from(PRICES), st.sampled_from(PRICES)))
    def first_cases(self, prices: tuple[str, str]) -> None:
        for buyer, price in zip(BUYERS, prices, strict=True):
            self.run(describe_defect(self.desk, buyer, price=price))

    @rule(
        picks=st.lists(st.integers(0, 10_000), min_size=2, max_size=5),
        hours=st.sampled_from([0, 1, 7, 30]),
        new=st.none() | st.tuples(st.sampled_from(BUYERS), st.sampled_from(PRICES)),
    )
    def race(self, picks: list[int], hours: int, new: tuple[str, str] | None) -> None:
        """One rule, so that every step races: first, maybe, a buyer describes one more case
        and the clock moves on (promises fall due); then the moves picked run together."""
        if new is not None:
            self.run(describe_defect(self.desk, new[0], price=new[1]))
        self.desk.later(hours=hours)
        moves = self.run(self._moves())
        chosen = [moves[pick % len(moves)] for pick in picks]
        done = self.run(self._together(chosen))
        self.run(self._check(done))

    async def _together(self, moves: list[Move]) -> list[tuple[Incoming, Outcome]]:
        results = await asyncio.gather(*(move.run() for move in moves))
        await self.desk.deliver()
        return [pair for result in results for pair in result]

    # -- what can be done now -------------------------------------------------------------
    async def _moves(self) -> list[Move]:
        moves = [Move("sweep", self._sweep)]
        for key in (*BUYERS, *DECIDERS, SUPPORT):
            person = self._person(key)
            shown = [m for m in person.inbox if m.buttons][-RECENT:]
            for message in shown:
                for row in message.buttons:
                    for label, payload in row:
                        if not payload.startswith(DECISIVE):
                            continue  # the steps of describing a case: `race` does them whole
                        event = self._event(
                            person, payload=payload, chat=message.chat_id, thread=message.thread_id
                        )
                        moves.append(Move(f"{key} taps {label!r}", self._once(event)))
        async with self.db.session() as session:
            owned = (await session.execute(select(Case.id, Case.buyer_id))).all()
        for case_id, buyer_id in owned:
            buyer = next(key for key in BUYERS if BUYER_PEOPLE[key].user_id == buyer_id)
            withdraw = Withdraw(case_id=case_id).pack()
            event = self._event(self._person(buyer), payload=withdraw)
            moves.append(Move(f"{buyer} withdraws case {case_id}", self._once(event)))
        for buyer in BUYERS:
            event = self._event(self._person(buyer), text="operator")
            moves.append(Move(f"{buyer} asks for a person", self._once(event)))
        for decider in DECIDERS:
            event = self._event(self._person(decider), text="700")
            moves.append(Move(f"{decider} types 700", self._once(event)))
        async with self.db.session() as session:
            topics = (
                await session.execute(select(SupportTopic.chat_id, SupportTopic.thread_id))
            ).all()
        sam = self._person(SUPPORT)
        for chat, thread in topics:
            if thread is None:
                continue
            for words in SUPPORT_SAYS:
                event = self._event(sam, text=words, chat=chat, thread=thread)
                moves.append(Move(f"sam says {words!r} in topic {thread}", self._once(event)))
        for earlier in self.applied[-3:]:
            moves.append(Move(f"replay of {earlier.key}", self._once(earlier, replay=True)))
        return moves

    def _person(self, key: str) -> Participant:
        return self.desk.buyer(key) if key in BUYERS else self.desk.staff(key)

    def _event(
        self,
        person: Participant,
        *,
        payload: str | None = None,
        text: str | None = None,
        chat: int | None = None,
        thread: int | None = None,
    ) -> Incoming:
        key = f"race:{next(self.keys)}"
        chat = person.chat_id if chat is None else chat
        return Incoming(
            key=key,
            author=person.author,
            chat_id=chat,
            text=text,
            payload=payload,
            callback_id=key if payload else None,
            thread_id=thread,
            is_private=chat > 0,
        )

    def _once(
        self, event: Incoming, *, replay: bool = False
    ) -> Callable[[], Awaitable[list[tuple[Incoming, Outcome]]]]:
        async def run() -> list[tuple[Incoming, Outcome]]:
            try:
                outcome = await self.desk.sandbox.app.engine.process(event)
            except DetachedInstanceError as error:
                if not _refusal_of_a_case(error):
                    raise
                return []
            if replay:
                assert outcome.duplicate, f"the replay of {event.key} was applied again"
            elif not outcome.duplicate:
                self.applied.append(event)
            return [(event, outcome)]

        return run

    async def _sweep(self) -> list[tuple[Incoming, Outcome]]:
        app = self.desk.sandbox.app
        recording = Recording(app.engine)
        sweeper = Sweeper(db=app.db, clock=app.clock, engine=recording)  # type: ignore[arg-type]
        await sweeper.sweep()
        return recording.seen

    # -- what must hold -------------------------------------------------------------------------
    async def _check(self, done: list[tuple[Incoming, Outcome]]) -> None:
        for event, outcome in done:
            assert not outcome.failed, f"{event.key} ({event.text or event.payload}) failed"
            if outcome.callback_answer and (
                found := ALREADY_DECIDED.search(outcome.callback_answer)
            ):
                self.answers.append((event, found.group(1)))
        async with self.db.session() as session:
            claimed = Counter(
                await session.scalars(
                    select(TranscriptEntry.update_key).where(
                        TranscriptEntry.direction == "in",
                        TranscriptEntry.update_key.in_([event.key for event, _ in done]),
                    )
                )
            )
        for event, outcome in done:
            assert claimed[event.key] == 1, (
                f"{event.key} is in the transcript {claimed[event.key]}x"
            )
            # Support's commands in the group may be silent (/take of a case one holds).
            if not outcome.duplicate and not event.system and event.is_private:
                answered = outcome.replies or outcome.callback_answer
                assert answered, f"{event.key} ({event.text or event.payload}) got no answer"

    @invariant()
    def no_over_refund(self) -> None:
        self.run(self._no_over_refund())

    async def _no_over_refund(self) -> None:
        async with self.db.session() as session:
            standing = (
                select(func.coalesce(func.sum(Refund.amount_minor), 0))
                .where(Refund.order_id == Order.id, Refund.status != "failed")
                .scalar_subquery()
            )
            rows = (
                await session.execute(
                    select(
                        Order.number,
                        Order.refunded_minor,
                        standing,
                        Order.paid_minor + Order.shipping_minor,
                    )
                )
            ).all()
        for number, refunded, summed, paid in rows:
            assert refunded == summed, f"order {number}: {refunded} counted, {summed} in refunds"
            assert refunded <= paid, f"order {number}: {refunded} refunded of {paid} paid"

    @invariant()
    def everyone_is_told_the_truth(self) -> None:
        self.run(self._told_the_truth())

    async def _told_the_truth(self) -> None:
        """Counted per person (a reply in the buyer's own chat names the case the chat is on
        next, not always the one it is about): each thing a person was told happened is in
        the database as often."""
        async with self.db.session() as session:
            told = Counter(
                (
                    await session.execute(
                        select(TranscriptEntry.chat_id, TranscriptEntry.template).where(
                            TranscriptEntry.direction == "out",
                            TranscriptEntry.template.in_([*TOLD_BUYER, "seller/decision_sent"]),
                        )
                    )
                ).all()
            )
            history = (
                await session.execute(
                    select(Case.buyer_id, CaseEvent.action, CaseEvent.detail).join(
                        Case, CaseEvent.case_id == Case.id
                    )
                )
            ).all()
            steps = Counter((buyer, action) for buyer, action, _ in history)
            agreed = Counter(
                buyer
                for buyer, action, detail in history
                if action == "agreed" and detail["amount"]
            )
            refunds = Counter(
                await session.scalars(select(Case.buyer_id).join(Refund, Refund.case_id == Case.id))
            )
            decisions = (
                await session.execute(
                    select(Decision.offer_id, Decision.actor_id, Decision.actor_role)
                )
            ).all()
        decided = Counter(actor for _, actor, role in decisions if role == "seller")
        deciders_of = {(offer, actor) for offer, actor, _ in decisions}
        for key in BUYERS:
            buyer = BUYER_PEOPLE[key].user_id
            for template, action in TOLD_BUYER.items():
                said, recorded = told[(buyer, template)], steps[(buyer, action)]
                assert said == recorded, (
                    f"{key} was told {template} {said}x; her cases' history has {action} "
                    f"{recorded}x"
                )
            assert refunds[buyer] == agreed[buyer], (
                f"{key}: {refunds[buyer]} refunds, {agreed[buyer]} agreed with an amount"
            )
        for key in DECIDERS:
            decider = STAFF[key].user_id
            said = told[(decider, "seller/decision_sent")]
            assert said <= decided[decider], (
                f"{key} was told {said}x that a decision was sent; {decided[decider]} of "
                "theirs are recorded"
            )
        for event, name in self.answers:
            if not (event.payload or "").startswith(f"{SellerOffer.__prefix__}:"):
                continue
            offer = SellerOffer.unpack(event.payload or "").offer_id
            ids = {p.user_id for p in (*BUYER_PEOPLE.values(), *STAFF.values()) if p.name == name}
            assert any((offer, actor) in deciders_of for actor in ids), (
                f"{event.key} was told offer {offer} was decided by {name}; it was not"
            )


def test_races_lose_nothing_refund_no_more_than_paid_and_tell_the_truth(
    backend: str, migrated: str, tmp_path: Path
) -> None:
    """Each backend's database comes from `migrated` (tests/conftest.py): one new database per
    example, made as the `db` fixture makes it."""
    Races.backend = backend
    Races.migrated = migrated
    Races.workdir = tmp_path
    run_state_machine_as_test(
        Races,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            # No shrinking: each step is a round of real transactions, and a race need not
            # happen again the same way, so shrinking one would take minutes for little.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            derandomize=False,
        ),
    )
