"""What a handler receives: the event, the update's transaction, the clock's one "now" for
this update, the renderer and the shop, and ways to answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.config.shop import SellerConfig, ShopConfig
from bot.domain.claims import ClaimKeys
from bot.engine.events import Button, Incoming, Outgoing, Upload
from bot.engine.identity import Actor
from bot.engine.payloads import Payload
from bot.rendering import Reader, Renderer, locale_for, plain_text
from bot.storage.stores.chat_state import ChatState
from bot.storage.transaction import Transaction

# Telegram shows at most 200 characters in a button's pop-up and refuses a longer one, which
# would leave the button's spinner turning.
POPUP_LIMIT = 200


def popup_text(rendered: str) -> str:
    """A rendered template as a pop-up shows it: Telegram takes no HTML there, so the tags
    would show as typed, and the text is cut to fit. The limit is counted in UTF-16 code units,
    as Telegram counts a message's length, so an emoji takes two."""
    text = plain_text(rendered).strip()
    if _utf16(text) <= POPUP_LIMIT:
        return text
    text = text[: POPUP_LIMIT - 1]
    while _utf16(text) > POPUP_LIMIT - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """A button before it is rendered in its reader's language."""

    label: str  # a macro of templates/<locale>/labels.j2
    payload: Payload | str
    variables: dict[str, Any] = field(default_factory=dict)


def button(label: str, payload: Payload | str, **variables: Any) -> ButtonSpec:
    return ButtonSpec(label, payload, variables)


Keyboard = Sequence[Sequence[ButtonSpec]]


def column(*buttons: ButtonSpec) -> Keyboard:
    return [[b] for b in buttons]


class BuyerLike(Protocol):
    """A buyer profile or a buyer row: where a buyer is written to, and in which language."""

    @property
    def telegram_id(self) -> int: ...
    @property
    def language(self) -> str | None: ...
    @property
    def language_code(self) -> str | None: ...
    @property
    def timezone(self) -> str: ...


def buyer_reader(buyer: BuyerLike) -> Reader:
    return Reader(buyer.language or locale_for(buyer.language_code), buyer.timezone)


def seller_reader(seller: SellerConfig) -> Reader:
    return Reader(seller.language, seller.timezone)


class Context:
    def __init__(
        self,
        *,
        event: Incoming,
        tx: Transaction,
        now: datetime,
        renderer: Renderer,
        shop: ShopConfig,
        conversation: ChatState,
        actor: Actor,
        claim_keys: ClaimKeys | None = None,
    ) -> None:
        self.event = event
        # The update's transaction, which handlers pass to services: its deferred writes,
        # cache and locks, and the session the services' SQL runs in (handlers never touch it).
        self.tx = tx
        self.now = now
        self.renderer = renderer
        self.shop = shop
        self.conversation = conversation
        self.actor = actor
        # Signed links and hashed checks (docs/claiming.md); None when no secret is set.
        self.claim_keys = claim_keys
        # Replies go in the reader's language; seller and support handlers switch it once
        # they know in which role the person acts.
        self.reader = buyer_reader(actor.buyer)
        self.replies: list[Outgoing] = []
        self.callback_answer: str | None = None

    # -- readers -----------------------------------------------------------------------------
    def seller(self, seller_id: str) -> SellerConfig:
        return self.shop.seller(seller_id)

    def act_as_seller(self, seller_id: str) -> SellerConfig:
        seller = self.seller(seller_id)
        self.reader = seller_reader(seller)
        return seller

    def support_reader(self) -> Reader:
        return Reader(self.shop.support.language, self.shop.support.timezone)

    def act_as_support(self) -> None:
        self.reader = self.support_reader()

    # -- answering ---------------------------------------------------------------------------
    def render(self, template: str, reader: Reader | None = None, /, **variables: Any) -> str:
        return self.renderer.render(template, reader or self.reader, now=self.now, **variables)

    def send(
        self,
        to: int | Sequence[int],
        reader: Reader,
        template: str,
        /,
        *,
        buttons: Keyboard = (),
        photos: Sequence[str] = (),
        uploads: Sequence[Upload] = (),
        case_id: int | None = None,
        thread_id: int | None = None,
        topic_of: int | None = None,
        **variables: Any,
    ) -> None:
        """A message to one chat, or the same message to several that share a reader (rendered
        once for all of them)."""
        text = self.render(template, reader, **variables)
        keyboard = self._keyboard(buttons, reader)
        shown = tuple(photos)
        for chat_id in (to,) if isinstance(to, int) else to:
            self.replies.append(
                Outgoing(
                    chat_id=chat_id,
                    text=text,
                    buttons=keyboard,
                    photos=shown,
                    uploads=tuple(uploads),
                    thread_id=thread_id,
                    case_id=case_id,
                    template=template,
                    topic_of=topic_of,
                )
            )

    def topic_action(self, chat_id: int, action: str, name: str, *, case_id: int) -> None:
        """Open, rename, close or reopen the support topic of a case (in order with messages)."""
        self.replies.append(
            Outgoing(chat_id=chat_id, text=name, case_id=case_id, topic_of=case_id, action=action)
        )

    def reply(self, template: str, /, *, buttons: Keyboard = (), **variables: Any) -> None:
        """Answer in the chat the update came from."""
        case_id = variables.pop("case_id", self.conversation.case_id)
        self.send(
            self.event.chat_id,
            self.reader,
            template,
            buttons=buttons,
            case_id=case_id,
            thread_id=self.event.thread_id,
            **variables,
        )

    def to_buyer(self, buyer: BuyerLike | None, template: str, /, **kwargs: Any) -> None:
        """Tell the buyer, if they are in Telegram: a case a marketplace opened for a buyer who
        never wrote to the bot has none (docs/ozon.md), and nothing is sent for it."""
        if buyer is None:
            return
        self.send(buyer.telegram_id, buyer_reader(buyer), template, **kwargs)

    def to_deciders(self, seller_id: str, template: str, /, **kwargs: Any) -> None:
        seller = self.seller(seller_id)
        deciders = [decider.telegram_id for decider in seller.deciders]
        self.send(deciders, seller_reader(seller), template, **kwargs)

    def answer(self, template: str, /, **variables: Any) -> None:
        """The short pop-up on a pressed button."""
        self.callback_answer = popup_text(self.render(template, **variables))

    def label(self, name: str, reader: Reader | None = None, /, **variables: Any) -> str:
        return self.renderer.label(name, reader or self.reader, **variables)

    def _keyboard(self, rows: Keyboard, reader: Reader) -> tuple[tuple[Button, ...], ...]:
        return tuple(
            tuple(
                Button(
                    self.renderer.label(spec.label, reader, **spec.variables),
                    spec.payload if isinstance(spec.payload, str) else spec.payload.pack(),
                )
                for spec in row
            )
            for row in rows
            if row
        )

    # -- waiting -----------------------------------------------------------------------------
    def expect(
        self,
        state: StrEnum | None,
        *,
        case_id: int | None = None,
        offer_id: int | None = None,
        **data: Any,
    ) -> None:
        """Remember what this chat waits for next; the next text or photo goes there. A state is
        a member of the handlers' enum (handlers/workflow/awaiting.py), never a bare string,
        so that the router's start-up check sees every state a handler can set."""
        # The plain string: the row stores it, and a state read back from it is one too.
        self.conversation.awaiting = None if state is None else state.value
        self.conversation.case_id = case_id
        self.conversation.offer_id = offer_id
        self.conversation.data = data
