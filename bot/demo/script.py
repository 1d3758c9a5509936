"""The demo's two cases, played through the real engine, templates and database.

1. Ivan (reads Russian) got his speaker with one of his two USB-C cables missing and wants it
   sent. The cable is discontinued, so the seller's decider Li Wei (reads Chinese) refuses the
   reship with an alternative, a partial refund, which Ivan accepts.
2. Anna (reads English) returns headphones that are not as described, inside the return window;
   the seller inspects them on arrival and refunds them in full.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.demo.narrator import Narrator
from bot.domain.enums import ItemCondition, Reason, Want
from bot.domain.money import Money
from bot.sandbox import Participant, Sandbox
from bot.services.orders import orders_by_number
from bot.storage.models import Order

IVAN, ANNA, LI_WEI, WANG_FANG = 100001, 100002, 200001, 200002


class Script:
    def __init__(self, sandbox: Sandbox, narrator: Narrator, clock: FakeClock) -> None:
        self.sandbox = sandbox
        self.narrator = narrator
        self.clock = clock

    async def tap(self, person: Participant, macro: str, /, **variables: object) -> None:
        label = person.label(macro, **variables)
        self.narrator.action(person, f"taps «{label}»")
        await person.click(label)
        self.narrator.deliveries()

    async def say(self, person: Participant, text: str) -> None:
        self.narrator.action(person, f"writes «{text}»")
        await person.send(text)
        self.narrator.deliveries()

    async def photo(self, person: Participant, caption: str) -> None:
        self.narrator.action(person, f"sends a photo: {caption}")
        await person.send_photo(caption=caption)
        self.narrator.deliveries()

    def later(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.narrator.console.print(f"[dim]  … {delta} later[/]")

    async def order(self, number: str) -> Order:
        async with self.sandbox.db.reading() as tx:
            return (await orders_by_number(tx, number))[0]


async def play(script: Script) -> None:
    sandbox = script.sandbox
    ivan = sandbox.person(IVAN, "Иван", "ru")
    anna = sandbox.person(ANNA, "Anna", "en")
    li = sandbox.person(LI_WEI, "Li Wei", "zh-hans")
    sandbox.person(WANG_FANG, "Wang Fang", "zh-hans")

    script.narrator.heading("Case 1: a missing accessory that is discontinued")
    speaker = await script.order("OZ-1001")
    await script.say(ivan, "/start")
    await script.tap(ivan, "menu_problem")
    await script.tap(ivan, "order", order=speaker)
    await script.tap(ivan, "reason", reason=Reason.MISSING_ITEMS)
    await script.tap(ivan, "item", item=speaker.items[1])
    await script.tap(ivan, "quantity", n=1)
    await script.tap(ivan, "want", want=Want.REPLACE)
    await script.photo(ivan, "the box and the one cable that came")
    await script.tap(ivan, "photos_done")
    script.later(timedelta(hours=3))
    await script.tap(li, "seller_refuse", offer=None)
    await script.tap(li, "alt_refund")
    await script.say(li, "250")
    script.later(timedelta(minutes=20))
    await script.tap(ivan, "accept")
    script.later(timedelta(hours=5))
    await script.tap(li, "done", remedy="refund", amount=Money.of("250", "RUB"))

    script.narrator.heading("Case 2: a return inside the window, inspected and refunded")
    headphones = await script.order("OZ-1002")
    await script.say(anna, "/start")
    await script.tap(anna, "menu_return")
    await script.tap(anna, "order", order=headphones)
    await script.tap(anna, "reason", reason=Reason.NOT_AS_DESCRIBED)
    await script.tap(anna, "condition", condition=ItemCondition.UNUSED)
    await script.photo(anna, "the headphones beside the listing's picture")
    await script.tap(anna, "photos_done")
    await script.tap(anna, "return_sent")
    await script.say(anna, "RR123456785DE")
    script.later(timedelta(days=4))
    await script.tap(li, "inspect_full")
