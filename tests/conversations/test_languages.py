"""Each reader gets their own language and time zone: buyers from their Telegram app or their
/language choice, deciders and support from the shop file."""

from __future__ import annotations

from tests.desk import Desk


async def test_a_russian_buyer_and_a_chinese_seller_each_read_their_own_language(
    desk: Desk,
) -> None:
    ivan, li = desk.buyer("ivan"), desk.staff("li")
    order = await desk.order("ivan", items=[("Колонка", 1, "9000")], seller="lucky-dragon")
    await ivan.send("/start")
    assert ivan.last.plain.startswith("Здравствуйте, Иван!")
    await ivan.tap("menu_problem")
    await ivan.click(f"#{order.number}")
    await ivan.tap("reason", reason="defect")
    await ivan.tap("want", want="keep")
    await ivan.send_photo()
    await ivan.tap("photos_done")
    # 30% of 9000 RUB is above the default policy's 500 RUB limit: the seller decides.
    assert "(Москва, стандартное время)" in ivan.last.plain
    assert "需要您做出决定" in li.last.plain and "（中国标准时间）" in li.last.plain
    await li.click(li.last.labels[0])  # approve, in Chinese
    assert "2\xa0700,00\xa0₽" in ivan.last.plain  # Russian money format


async def test_the_language_command_switches_the_buyers_language(desk: Desk) -> None:
    anna = desk.buyer("anna")
    await anna.send("/language")
    assert anna.last.labels == ["English", "Русский", "中文"]
    await anna.click("Русский")
    assert anna.last.plain.startswith("Готово")
    anna.locale = "ru"
    await anna.send("/start")
    assert anna.last.labels[0] == anna.label("menu_problem")
    await anna.send("/language")
    await anna.click("English")
    await anna.send("/start")
    assert anna.last.plain.startswith("Hello")


async def test_a_deep_link_opens_the_buyers_own_order_only(desk: Desk) -> None:
    anna, mallory = desk.buyer("anna"), desk.buyer("mallory")
    order = await desk.order()
    await anna.send(f"/start order_{order.id}")
    assert f"What is wrong with order #{order.number}?" in anna.last.plain
    await mallory.send(f"/start order_{order.id}")
    # Without the internal id (nor Anna's number): "order 1" means nothing to a buyer.
    assert mallory.last.plain.startswith("I couldn't find that order among yours.")
    assert str(order.id) not in mallory.last.plain and order.number not in mallory.last.plain
    [entry] = await desk.audit()
    assert (entry.action, entry.detail["order_id"]) == ("buyer.foreign_order", order.id)
