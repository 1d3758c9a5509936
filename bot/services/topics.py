"""The support group's forum topics: one a case, where an escalated case is worked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.storage.models import SupportTopic
from bot.storage.transaction import Transaction


async def topic_of_case(tx: Transaction, case_id: int) -> SupportTopic | None:
    return await tx.session.get(SupportTopic, case_id)


def open_topic(
    tx: Transaction, case_id: int, chat_id: int, name: str, now: datetime
) -> SupportTopic:
    """A new topic for the case; its thread id comes once Telegram created it."""
    topic = SupportTopic(case_id=case_id, chat_id=chat_id, name=name, closed=False, opened_at=now)
    tx.session.add(topic)
    return topic


async def case_id_of_topic(tx: Transaction, chat_id: int, thread_id: int) -> int | None:
    """The case worked in the topic `thread_id` of the group `chat_id`, if any."""
    return await tx.session.scalar(
        select(SupportTopic.case_id).where(
            SupportTopic.chat_id == chat_id, SupportTopic.thread_id == thread_id
        )
    )
