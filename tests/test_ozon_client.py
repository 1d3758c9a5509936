"""The Ozon client against the fake Ozon server: headers, validation, paging, backing off, and
both shapes the reference and its examples disagree on (docs/ozon.md)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.marketplaces.ozon import OzonApiError, OzonUnavailableError
from bot.marketplaces.ozon.limiter import RateLimiter
from bot.marketplaces.ozon.unconfirmed import Fact, forget
from bot.testing.ozon import (
    CIRCLE_OPEN,
    HANG,
    RATE_LIMIT,
    SERVER_ERROR,
    UNAVAILABLE,
    FakeCancellation,
    FakeOzon,
    FakeProduct,
    FakeReturn,
    FakeRole,
    Fault,
)
from tests.ozon_samples import (
    API_KEY,
    APPROVE,
    CLIENT_ID,
    COMPENSATE,
    RECEIVE,
    REJECT,
    T0,
    Pauses,
    client,
    posting,
    rfbs_return,
    seller,
)


async def test_every_call_is_a_post_with_json_and_the_sellers_headers(fake_ozon: FakeOzon) -> None:
    seller(fake_ozon)
    async with client(fake_ozon) as ozon:
        roles = await ozon.roles()
    assert roles[0].name == "Admin"
    call = fake_ozon.calls_to("/v1/roles")[0]
    assert call.headers["Client-Id"] == CLIENT_ID
    assert call.headers["Api-Key"] == API_KEY
    assert call.headers["Content-Type"] == "application/json"
    assert call.body == {}


async def test_a_wrong_key_is_refused_with_ozons_message_and_not_retried(
    fake_ozon: FakeOzon,
) -> None:
    seller(fake_ozon)
    async with client(fake_ozon, api_key="not-the-key") as ozon:
        with pytest.raises(OzonApiError) as refused:
            await ozon.roles()
    assert refused.value.status == 403
    assert refused.value.unauthorized
    assert "Invalid Api-Key" in refused.value.message
    assert len(fake_ozon.calls) == 1


async def test_a_key_without_the_role_for_a_method_is_refused(fake_ozon: FakeOzon) -> None:
    seller(fake_ozon).roles = [FakeRole("Returns", ["/v2/returns/rfbs/list", "/v1/roles"])]
    async with client(fake_ozon) as ozon:
        await ozon.list_rfbs_returns()
        with pytest.raises(OzonApiError, match="missing a required role"):
            await ozon.list_cancellations()


async def test_a_body_missing_a_required_field_gets_ozons_error_shape(fake_ozon: FakeOzon) -> None:
    seller(fake_ozon)
    async with client(fake_ozon) as ozon:
        with pytest.raises(OzonApiError) as refused:
            await ozon.call("/v2/returns/rfbs/list", {"last_id": 0})
        assert refused.value.status == 400
        assert refused.value.code == 3
        assert "limit" in refused.value.message
        with pytest.raises(OzonApiError, match="at most one year apart"):
            await ozon.list_fbs_postings(since=T0 - timedelta(days=400), to=T0)
        with pytest.raises(OzonApiError, match="cursor"):
            await ozon.list_fbs_postings(since=T0, to=T0, cursor="nonsense")


async def test_postings_are_read_page_by_page_with_the_cursor(fake_ozon: FakeOzon) -> None:
    seller(fake_ozon).postings = [posting(n) for n in range(1, 6)]
    async with client(fake_ozon) as ozon:
        got = [
            p.posting_number
            async for p in ozon.iter_fbs_postings(since=T0, to=T0 + timedelta(days=1), limit=2)
        ]
    assert got == [f"0132112277-{n:04d}-1" for n in range(1, 6)]
    bodies = [c.body for c in fake_ozon.calls_to("/v4/posting/fbs/list")]
    assert len(bodies) == 3
    assert "cursor" not in bodies[0]
    assert bodies[1]["cursor"] and bodies[2]["cursor"] != bodies[1]["cursor"]


@pytest.mark.parametrize("shape", ["v4", "v3"])
@pytest.mark.parametrize("price_shape", ["string", "number"])
async def test_posting_prices_are_exact_decimals_in_either_shape(
    fake_ozon: FakeOzon, shape: str, price_shape: str
) -> None:
    fake_ozon.posting_price_shape = shape  # type: ignore[assignment]
    fake_ozon.price_shape = price_shape  # type: ignore[assignment]
    seller(fake_ozon).postings = [posting(1)]
    async with client(fake_ozon) as ozon:
        page = await ozon.list_fbs_postings(since=T0, to=T0 + timedelta(days=1))
    product = page.postings[0].products[0]
    assert product.price == Decimal("1290.10")
    assert str(product.price) == ("1290.10" if price_shape == "string" else "1290.1")
    assert product.currency == "RUB"
    assert product.sku == "900001"
    assert page.postings[0].in_process_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    "fault",
    [RATE_LIMIT, CIRCLE_OPEN, SERVER_ERROR, UNAVAILABLE, Fault(403, 8, "Circle is open")],
    ids=["429-rate-limit", "circle-open", "500", "503", "circle-open-as-403"],
)
async def test_back_off_answers_are_retried_after_jittered_pauses(
    fake_ozon: FakeOzon, fault: Fault
) -> None:
    seller(fake_ozon)
    fake_ozon.fail(fault, times=2, method="/v1/roles")
    pauses = Pauses()
    async with client(fake_ozon, pauses=pauses) as ozon:
        assert await ozon.roles()
    assert len(fake_ozon.calls_to("/v1/roles")) == 3
    assert len(pauses.taken) == 2
    assert 0.25 <= pauses.taken[0] <= 0.5
    assert 0.5 <= pauses.taken[1] <= 1.0


async def test_a_method_that_never_recovers_ends_in_unavailable_after_the_tries_allowed(
    fake_ozon: FakeOzon,
) -> None:
    seller(fake_ozon)
    fake_ozon.fail(SERVER_ERROR, times=10)
    async with client(fake_ozon, attempts=3) as ozon:
        with pytest.raises(OzonUnavailableError, match="after 3 tries") as failed:
            await ozon.roles()
    assert "HTTP 500" in failed.value.last
    assert len(fake_ozon.calls) == 3


async def test_a_hanging_server_times_out_and_is_tried_again(fake_ozon: FakeOzon) -> None:
    seller(fake_ozon)
    fake_ozon.fail(HANG, times=1)
    async with client(fake_ozon, timeout=0.3) as ozon:
        assert await ozon.roles()
    assert len(fake_ozon.calls) == 2


async def test_the_fake_refuses_more_than_fifty_calls_a_second_per_client(
    fake_ozon: FakeOzon,
) -> None:
    seller(fake_ozon)
    fake_ozon.global_per_second = 3
    async with client(fake_ozon, attempts=1) as ozon:
        for _ in range(3):
            await ozon.roles()
        with pytest.raises(OzonUnavailableError, match="rate limit"):
            await ozon.roles()


async def test_the_limiter_holds_calls_to_its_rate() -> None:
    now = [0.0]
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2, now=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await limiter.acquire()
    assert waited == [1.0, 1.0]


@pytest.mark.parametrize("shape", ["object", "list"])
@pytest.mark.parametrize("price_shape", ["string", "number"])
async def test_rfbs_returns_are_read_as_an_object_or_a_list(
    fake_ozon: FakeOzon, shape: str, price_shape: str
) -> None:
    fake_ozon.returns_shape = shape  # type: ignore[assignment]
    fake_ozon.price_shape = price_shape  # type: ignore[assignment]
    seller(fake_ozon).rfbs_returns = [rfbs_return(n) for n in (11, 12, 13)]
    seen = []
    async with client(fake_ozon) as ozon:
        last_id = None
        while True:
            page = await ozon.list_rfbs_returns(limit=2, last_id=last_id)
            if not page.returns:
                break
            seen += [r.return_id for r in page.returns]
            last_id = page.last_id
        detail = await ozon.get_rfbs_return(12)
    assert seen == [11, 12, 13]
    assert detail.product is not None
    assert detail.product.price == Decimal("1290.10")
    assert [a.id for a in detail.available_actions] == [APPROVE, REJECT, COMPENSATE]
    assert detail.client_photos == ("https://cdn.example/photo1.jpg",)
    assert detail.comment == "Ручка отломана"
    assert detail.reason_is_defect


async def test_nested_available_actions_are_read_too(fake_ozon: FakeOzon) -> None:
    fake_ozon.action_shape = "nested"
    seller(fake_ozon).rfbs_returns = [rfbs_return(11)]
    async with client(fake_ozon) as ozon:
        detail = await ozon.get_rfbs_return(11)
    assert detail.action(APPROVE) is not None
    assert detail.action(APPROVE).name == "Одобрить"  # type: ignore[union-attr]


async def test_an_action_changes_the_return_and_only_available_actions_are_taken(
    fake_ozon: FakeOzon,
) -> None:
    seller(fake_ozon).rfbs_returns = [rfbs_return(11)]
    async with client(fake_ozon) as ozon:
        with pytest.raises(OzonApiError, match="not available"):
            await ozon.set_rfbs_return_action(11, RECEIVE)
        await ozon.set_rfbs_return_action(11, APPROVE)
        detail = await ozon.get_rfbs_return(11)
        assert detail.state == "awaiting_goods"
        assert [a.id for a in detail.available_actions] == [RECEIVE]
        with pytest.raises(OzonApiError, match="not available"):
            await ozon.set_rfbs_return_action(11, APPROVE)
        with pytest.raises(OzonApiError) as missing:
            await ozon.get_rfbs_return(99)
    assert missing.value.status == 404


async def test_a_rejection_needs_its_reason_and_comment(fake_ozon: FakeOzon) -> None:
    returned = rfbs_return(11)
    seller(fake_ozon).rfbs_returns = [returned]
    async with client(fake_ozon) as ozon:
        with pytest.raises(ValueError, match="comment"):
            await ozon.set_rfbs_return_action(11, REJECT)
        with pytest.raises(OzonApiError, match="rejection_reason_id 99"):
            await ozon.set_rfbs_return_action(11, REJECT, comment="нет", rejection_reason_id=99)
        await ozon.set_rfbs_return_action(11, REJECT, comment="не брак", rejection_reason_id=7)
    assert returned.return_state == "rejected"
    assert returned.actions_taken == [
        {"return_id": 11, "id": REJECT, "comment": "не брак", "rejection_reason_id": 7}
    ]


async def test_a_partial_refund_sends_its_amount(fake_ozon: FakeOzon) -> None:
    returned = rfbs_return(11)
    seller(fake_ozon).rfbs_returns = [returned]
    async with client(fake_ozon) as ozon:
        with pytest.raises(ValueError, match="compensation_amount"):
            await ozon.set_rfbs_return_action(11, COMPENSATE)
        await ozon.set_rfbs_return_action(11, COMPENSATE, compensation_amount=Decimal("300.50"))
    assert returned.actions_taken[0]["compensation_amount"] == 300.5
    assert returned.group_state == "Approved"


async def test_fbo_fbs_returns_are_paged_with_has_next(fake_ozon: FakeOzon) -> None:
    product = FakeProduct(sku=1, offer_id="MUG-1", name="Кружка", price="99.90")
    seller(fake_ozon).returns = [
        FakeReturn(id=n, posting_number=f"P-{n}", order_number="O", product=product)
        for n in range(1, 4)
    ]
    async with client(fake_ozon) as ozon:
        first = await ozon.list_returns(limit=2)
        second = await ozon.list_returns(limit=2, last_id=first.last_id)
        with pytest.raises(OzonApiError, match="only one filter"):
            await ozon.list_returns(filters={"offer_id": "MUG-1", "return_schema": "FBS"})
    assert [r.id for r in first.returns] == [1, 2]
    assert first.has_next
    assert [r.id for r in second.returns] == [3]
    assert not second.has_next
    assert first.returns[0].price == Decimal("99.90")
    assert first.returns[0].status == "OnSellerApproval"


async def test_cancellations_are_paged_by_last_id_and_decided_once(fake_ozon: FakeOzon) -> None:
    found = [
        FakeCancellation(
            cancellation_id=n,
            posting_number=f"P-{n}",
            cancelled_at=T0,
            auto_approve_date=T0 + timedelta(days=2),
        )
        for n in (5, 6, 7)
    ]
    seller(fake_ozon).cancellations = found
    async with client(fake_ozon) as ozon:
        first = await ozon.list_cancellations(limit=2, state="ON_APPROVAL", counter=True)
        second = await ozon.list_cancellations(limit=2, last_id=first.last_id)
        await ozon.approve_cancellation(5, "ok")
        await ozon.reject_cancellation(6)
        with pytest.raises(OzonApiError, match="not ON_APPROVAL"):
            await ozon.approve_cancellation(5)
        waiting = await ozon.list_cancellations(state="ON_APPROVAL")
    assert [c.cancellation_id for c in first.cancellations] == [5, 6]
    assert first.counter == 3
    assert [c.cancellation_id for c in second.cancellations] == [7]
    assert first.cancellations[0].auto_approve_date == T0 + timedelta(days=2)
    assert (found[0].cancellation_state, found[0].approve_comment, found[1].cancellation_state) == (
        "APPROVED",
        "ok",
        "REJECTED",
    )
    assert [c.cancellation_id for c in waiting.cancellations] == [7]


async def test_an_unconfirmed_fact_is_logged_once(
    fake_ozon: FakeOzon, caplog: pytest.LogCaptureFixture
) -> None:
    forget()
    fake_ozon.returns_shape = "object"
    seller(fake_ozon).rfbs_returns = [rfbs_return(11)]
    caplog.set_level(logging.WARNING, "bot.marketplaces.ozon.unconfirmed")
    async with client(fake_ozon) as ozon:
        await ozon.list_rfbs_returns()
        await ozon.list_rfbs_returns()
    said = [r.getMessage() for r in caplog.records if "as one object" in r.getMessage()]
    assert len(said) == 1
    assert Fact.RETURNS_AS_OBJECT.value


async def test_a_return_in_an_unknown_shape_is_a_typed_error(fake_ozon: FakeOzon) -> None:
    from bot.marketplaces.ozon import OzonShapeError

    returned = rfbs_return(11)
    returned.available_actions = [("approve", "Одобрить")]  # type: ignore[list-item]
    seller(fake_ozon).rfbs_returns = [returned]
    async with client(fake_ozon) as ozon:
        with pytest.raises(OzonShapeError, match="id: expected a whole number"):
            await ozon.get_rfbs_return(11)


@pytest.mark.parametrize("fault", [SERVER_ERROR, HANG], ids=["500", "timeout"])
async def test_an_action_that_may_have_been_carried_out_is_never_sent_twice(
    fake_ozon: FakeOzon, fault: Fault
) -> None:
    returned = rfbs_return(11)
    seller(fake_ozon).rfbs_returns = [returned]
    fake_ozon.fail(fault, method="/v1/returns/rfbs/action/set")
    async with client(fake_ozon, timeout=0.3) as ozon:
        with pytest.raises(OzonUnavailableError) as unknown:
            await ozon.set_rfbs_return_action(11, APPROVE)
    assert unknown.value.maybe_applied
    assert len(fake_ozon.calls_to("/v1/returns/rfbs/action/set")) == 1


@pytest.mark.parametrize("fault", [RATE_LIMIT, CIRCLE_OPEN], ids=["rate-limit", "circle-open"])
async def test_an_action_ozon_refused_to_take_is_tried_again(
    fake_ozon: FakeOzon, fault: Fault
) -> None:
    returned = rfbs_return(11)
    seller(fake_ozon).rfbs_returns = [returned]
    fake_ozon.fail(fault, method="/v2/conditional-cancellation/approve")
    fake_ozon.fail(fault, method="/v1/returns/rfbs/action/set")
    fake_ozon.sellers[0].cancellations = [
        FakeCancellation(cancellation_id=5, posting_number="P-5", cancelled_at=T0)
    ]
    async with client(fake_ozon) as ozon:
        await ozon.set_rfbs_return_action(11, APPROVE)
        await ozon.approve_cancellation(5)
    assert len(returned.actions_taken) == 1
    assert len(fake_ozon.calls_to("/v1/returns/rfbs/action/set")) == 2
    assert fake_ozon.sellers[0].cancellations[0].cancellation_state == "APPROVED"
