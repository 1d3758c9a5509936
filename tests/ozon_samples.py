"""Sellers, postings, returns and cancellations for the tests against the fake Ozon server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.marketplaces.ozon import OzonClient, RetryPolicy
from bot.testing.ozon import (
    FakeOzon,
    FakePosting,
    FakeProduct,
    FakeRfbsReturn,
    FakeSeller,
    Transition,
)

CLIENT_ID = "123456"
API_KEY = "0f0e0d0c-aaaa-bbbb-cccc-000000000001"
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
APPROVE, REJECT, RECEIVE, REFUND, COMPENSATE = 10, -1, 20, 30, 1020


class Pauses:
    """Records the client's backoff pauses instead of waiting them out."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def client(
    server: FakeOzon,
    *,
    api_key: str = API_KEY,
    pauses: Pauses | None = None,
    attempts: int = 4,
    timeout: float = 5.0,
) -> OzonClient:
    return OzonClient(
        CLIENT_ID,
        api_key,
        base_url=server.url,
        retry=RetryPolicy(attempts=attempts, first_pause=0.5, longest_pause=4.0, timeout=timeout),
        sleep=pauses or Pauses(),
    )


def seller(server: FakeOzon) -> FakeSeller:
    return server.seller(CLIENT_ID, API_KEY)


def posting(n: int, *, status: str = "awaiting_packaging", **changes: object) -> FakePosting:
    made = FakePosting(
        posting_number=f"0132112277-{n:04d}-1",
        order_number=f"0132112277-{n:04d}",
        order_id=1000 + n,
        status=status,
        in_process_at=T0 + timedelta(hours=n),
        products=[
            FakeProduct(
                sku=900_000 + n, offer_id=f"MUG-{n}", name="Кружка", quantity=2, price="1290.10"
            ),
        ],
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def rfbs_return(return_id: int, posting_number: str = "0132112277-0001-1") -> FakeRfbsReturn:
    return FakeRfbsReturn(
        return_id=return_id,
        posting_number=posting_number,
        order_number=posting_number.rsplit("-", 1)[0],
        product=FakeProduct(sku=900_001, offer_id="MUG-1", name="Кружка", price="1290.10"),
        created_at=T0 + timedelta(days=1),
        client_name="Иван",
        available_actions=[
            (APPROVE, "Одобрить"),
            (REJECT, "Отклонить"),
            (COMPENSATE, "Компенсация"),
        ],
        rejection_reasons=[(7, "Товар не бракованный", "", True)],
        client_photo=["https://cdn.example/photo1.jpg"],
        comment="Ручка отломана",
        transitions={
            APPROVE: Transition(
                "awaiting_goods", "Ожидаем товар", "Delivering", then=[(RECEIVE, "Товар получен")]
            ),
            RECEIVE: Transition(
                "received", "Товар у продавца", "Checkout", then=[(REFUND, "Вернуть деньги")]
            ),
            REFUND: Transition(
                "money_returned",
                "Деньги возвращены",
                "Approved",
                money_return_state_name="Возвращены",
            ),
            REJECT: Transition("rejected", "Отклонена", "Rejected"),
            COMPENSATE: Transition("compensated", "Компенсация", "Approved"),
        },
    )
