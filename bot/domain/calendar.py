"""Business-hours calendars: when a promise made in working time falls due.

A promise has a target such as "1d" (calendar time: plain elapsed time) or "8bh" (business
time: only the owner's working hours count). A seller's calendar is written in TOML:

    timezone = "Europe/Moscow"
    holidays = [2027-01-01, 2027-01-07]
    holidays_ical = "holidays.ics"   # optional; relative to the settings file

    [hours]
    mon = ["09:00-13:00", "14:00-18:00"]
    tue = ["09:00-18:00"]
    fri = ["22:00-24:00"]            # 24:00 is midnight at the end of the day
    sat = ["00:00-06:00"]            # ...so Friday night runs on into Saturday

A day that is absent or has no periods is closed. Hours and holidays are read in the
calendar's time zone; every instant this module returns is a timezone-aware UTC datetime.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, field_validator

from bot.domain.durations import format_duration, parse_duration

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)  # in date.weekday() order

# add() gives up after this much calendar time: a target that does not fit means the
# calendar has (almost) no working hours, and scanning on would never end.
SCAN_LIMIT = timedelta(days=3 * 366)
# Yearly (and other recurring) holidays in an .ics file are expanded over these years.
ICAL_YEARS = (date(2000, 1, 1), date(2100, 1, 1))

_HOW_TO_WRITE_A_TARGET = (
    "write a time longer than zero, in calendar time like 30m, 2h, 1d or 1d12h, "
    "or in business time like 8bh, 90bm, 1bh30bm or 8 business hours"
)
_BUSINESS_SHORT = re.compile(r"(?:(?P<hours>\d+)\s*bh)?\s*(?:(?P<minutes>\d+)\s*bm)?")
_BUSINESS_LONG = re.compile(r"(?P<count>\d+)\s+business\s+(?P<unit>hour|minute)s?")
_PERIOD = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Target:
    """How long a promise may take: elapsed time, or working time on the owner's calendar."""

    duration: timedelta
    business: bool

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError(f"a deadline must be longer than zero; {_HOW_TO_WRITE_A_TARGET}")
        # Business time is written in whole minutes, so anything else could not round-trip.
        if self.business and self.duration % timedelta(minutes=1):
            raise ValueError("business time is counted in whole minutes, like 90bm")

    @classmethod
    def parse(cls, text: str) -> Target:
        """Read "8bh", "90bm", "1bh30bm", "8 business hours" or a calendar duration like "1d"."""
        words = " ".join(str(text).lower().split())
        if long := _BUSINESS_LONG.fullmatch(words):
            unit = timedelta(hours=1) if long["unit"] == "hour" else timedelta(minutes=1)
            return cls(int(long["count"]) * unit, business=True)
        short = _BUSINESS_SHORT.fullmatch(words)
        if short and (short["hours"] or short["minutes"]):
            duration = timedelta(hours=int(short["hours"] or 0), minutes=int(short["minutes"] or 0))
            return cls(duration, business=True)
        try:
            return cls(parse_duration(text), business=False)
        except ValueError:
            raise ValueError(f"{text!r} is not a deadline; {_HOW_TO_WRITE_A_TARGET}") from None

    def __str__(self) -> str:
        if not self.business:
            return format_duration(self.duration)
        hours, minutes = divmod(self.duration // timedelta(minutes=1), 60)
        return (f"{hours}bh" if hours else "") + (f"{minutes}bm" if minutes else "")


@dataclass(frozen=True)
class Period:
    """A stretch of working time within one day, written "09:00-18:00".

    `end` is None for "24:00", midnight at the end of the day, so that a period can run up
    to the next day's "00:00-..." without a gap.
    """

    start: time
    end: time | None

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{text!r} is not a working period; write it like 09:00-18:00")
        start_hour, start_minute, end_hour, end_minute = map(int, match.groups())
        start = _time_of_day(start_hour, start_minute, text)
        if start is None:
            raise ValueError(f"{text!r} begins at 24:00; a period begins at 23:59 at the latest")
        period = cls(start, _time_of_day(end_hour, end_minute, text))
        if period.end is not None and period.end <= period.start:
            raise ValueError(
                f"{text!r} ends before it begins; write the earlier time first, "
                "and 24:00 for midnight at the end of the day"
            )
        return period

    def __str__(self) -> str:
        end = "24:00" if self.end is None else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"

    def overlaps(self, other: Period) -> bool:
        return (other.end is None or self.start < other.end) and (
            self.end is None or other.start < self.end
        )

    def instants(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """When this period opens and closes on `day`, as UTC instants."""
        opens = _instant(day, self.start, zone)
        if self.end is None:
            return opens, _instant(day + timedelta(days=1), time(0), zone)
        return opens, _instant(day, self.end, zone)


def _time_of_day(hour: int, minute: int, text: str) -> time | None:
    """A time of day, or None for 24:00 (the end of the day)."""
    if (hour, minute) == (24, 0):
        return None
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} has a time that does not exist; use 00:00 to 24:00")
    return time(hour, minute)


def _opening(period: Period) -> time:
    return period.start


def _as_period(value: object) -> Period:
    return value if isinstance(value, Period) else Period.parse(str(value))


PeriodField = Annotated[Period, PlainValidator(_as_period), PlainSerializer(str, return_type=str)]


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which clocks in `zone` show `wall` on `day`.

    A time shown twice (clocks turned back) means its first occurrence. A time never shown
    (clocks turned forward) means the moment of the jump, the first instant after it.
    """
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the first occurrence
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Skipped: read with the offset from after the jump (fold=1) the time lies before the
    # jump, read with the offset from before it (fold=0) after the jump.
    return _jump(local.replace(fold=1).astimezone(UTC), instant, zone)


def _jump(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant with `after`'s UTC offset in `zone`, to the second."""
    offset = after.astimezone(zone).utcoffset()
    second = timedelta(seconds=1)
    while after - before > second:
        middle = before + (after - before) // second // 2 * second
        if middle.astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after


def _aware(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment} has no time zone; pass a timezone-aware datetime")
    return moment.astimezone(UTC)


class Calendar(BaseModel):
    """Working hours, holidays and the time zone they are read in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "UTC"
    hours: dict[Weekday, tuple[PeriodField, ...]]
    holidays: frozenset[date] = frozenset()
    holidays_ical: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{name!r} is not a time zone; write an IANA name such as Europe/Moscow"
            ) from None
        return name

    @field_validator("hours")
    @classmethod
    def _sensible_hours(
        cls, hours: dict[Weekday, tuple[Period, ...]]
    ) -> dict[Weekday, tuple[Period, ...]]:
        ordered = {day: tuple(sorted(periods, key=_opening)) for day, periods in hours.items()}
        for day, periods in ordered.items():
            for earlier, later in pairwise(periods):
                if earlier.overlaps(later):
                    raise ValueError(
                        f"on {day}, {earlier} and {later} overlap; "
                        "end one period before the next begins"
                    )
        if not any(hours.values()):
            raise ValueError(
                'a calendar needs working hours on at least one day, like mon = ["09:00-18:00"]'
            )
        return ordered

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def add(self, start: datetime, target: Target) -> datetime:
        """When a promise made at `start` with this target falls due."""
        start = _aware(start)
        if not target.business:
            return start + target.duration
        due = self._after_working(start, target.duration, until=start + SCAN_LIMIT)
        if due is None:
            raise ValueError(
                f"{target} of working time does not fit in the {SCAN_LIMIT.days} days after "
                f"{start:%Y-%m-%d}; the calendar has too few working hours or too many holidays"
            )
        return due

    def share(self, start: datetime, due: datetime, fraction: float) -> datetime:
        """The moment `fraction` of the working time between `start` and `due` has passed."""
        if not 0 <= fraction <= 1:
            raise ValueError(f"a share of the working time is between 0 and 1, not {fraction}")
        part = self.working_time(start, due) * fraction
        if not part:
            # Nothing to wait for; the next opening might lie after `due`.
            return _aware(start)
        moment = self._after_working(_aware(start), part, until=_aware(due))
        # `part` is at most the working time up to `due`, so it is found by then.
        return _aware(due) if moment is None else moment

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """How much working time lies between two instants (zero if `end` is not later)."""
        intervals = self._intervals(_aware(start), _aware(end))
        return sum((closes - opens for opens, closes in intervals), timedelta(0))

    def is_working(self, moment: datetime) -> bool:
        """Whether `moment` is inside a working period (which includes its start, not its end)."""
        moment = _aware(moment)
        return any(self._intervals(moment, moment + timedelta(microseconds=1)))

    def first_opening(self, start: datetime, end: datetime) -> datetime | None:
        """The first working instant from `start` on, before `end`; None if there is none (a
        month of holidays). The first working day of a month opens at it."""
        return next((opens for opens, _ in self._intervals(_aware(start), _aware(end))), None)

    def with_ical(self, base_dir: Path) -> Calendar:
        """A copy whose holidays include the all-day events of `holidays_ical`, if it is set."""
        if self.holidays_ical is None:
            return self
        path = base_dir / self.holidays_ical  # an absolute holidays_ical stays as it is
        return self.model_copy(update={"holidays": self.holidays | _ical_holidays(path)})

    def _after_working(
        self, start: datetime, working: timedelta, until: datetime
    ) -> datetime | None:
        """When `working` time of work has passed since `start`; None if not by `until`."""
        for opens, closes in self._intervals(start, until):
            # "<=": a remainder that ends exactly at closing falls due at closing, not at the
            # next opening.
            if working <= closes - opens:
                return opens + working
            working -= closes - opens
        return None

    def _intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals between two UTC instants, in order, clipped to them.

        Bounds are UTC instants, so a difference is real elapsed time even across a DST switch.
        """
        zone = self.zone
        day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        while day <= last:
            periods = () if day in self.holidays else self.hours.get(WEEKDAYS[day.weekday()], ())
            for period in periods:
                opens, closes = period.instants(day, zone)
                opens, closes = max(opens, start), min(closes, end)
                if opens < closes:
                    yield opens, closes
            day += timedelta(days=1)


def _ical_holidays(path: Path) -> frozenset[date]:
    """The days an .ics file marks as holidays; a clear ValueError if it cannot be read."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(
            f"the holidays file {path} does not exist; fix holidays_ical in the calendar"
        ) from None
    except OSError as error:
        raise ValueError(f"cannot read the holidays file {path}: {error.strerror}") from None
    try:
        return _all_day_dates(icalendar.Calendar.from_ical(content))
    except ValueError as error:  # what icalendar and recurring_ical_events raise
        problem = str(error)
    except KeyError as error:  # recurring_ical_events, on an event without a property it needs
        problem = f"an event has no {error.args[0]}"
    raise ValueError(f"the holidays file {path} is not a valid iCalendar (.ics) file: {problem}")


def _all_day_dates(calendar: icalendar.Component) -> frozenset[date]:
    """The days covered by all-day events, each occurrence of a recurring one included.

    Events with a time of day (a meeting, a delivery slot) do not close the whole day, so they
    are left out.
    """
    if calendar.name != "VCALENDAR":
        raise ValueError("it does not begin with BEGIN:VCALENDAR")
    events: list[Any] = recurring_ical_events.of(calendar).between(*ICAL_YEARS)
    days: set[date] = set()
    for event in events:
        first, end = event.start, event.end  # DTEND is exclusive
        if isinstance(first, datetime):
            continue
        days.update(first + timedelta(days=n) for n in range(max((end - first).days, 1)))
    return frozenset(days)


# For sellers who have not configured a calendar: every minute counts.
ALWAYS = Calendar.model_validate({"hours": dict.fromkeys(WEEKDAYS, ("00:00-24:00",))})
