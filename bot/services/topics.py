"""The support group's forum topics: one a case, where an escalated case is worked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import SupportTopic


async def topic_of_case(session: AsyncSession, case_id: int) -> SupportTopic | None:
    return await session.get(SupportTopic, case_id)


def open_topic(
    session: AsyncSession, case_id: int, chat_id: int, name: str, now: datetime
) -> SupportTopic:
    """A new topic for the case; its thread id comes once Telegram created it."""
    topic = SupportTopic(case_id=case_id, chat_id=chat_id, name=name, closed=False, opened_at=now)
    session.add(topic)
    return topic


async def case_id_of_topic(session: AsyncSession, chat_id: int, thread_id: int) -> int | None:
    """The case worked in the topic `thread_id` of the group `chat_id`, if any."""
    return await session.scalar(
        select(SupportTopic.case_id).where(
            SupportTopic.chat_id == chat_id, SupportTopic.thread_id == thread_id
        )
    )
