"""Business-hours calendars: when a promise falls due, in calendar time and in working time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain.calendar import ALWAYS, Calendar, Period, Target

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")


def calendar(hours: object = None, **fields: object) -> Calendar:
    """A Moscow office open Monday to Friday, 09:00-18:00, unless told otherwise."""
    default_hours = {day: ["09:00-18:00"] for day in WEEKDAYS_ONLY}
    return Calendar.model_validate(
        {"timezone": "Europe/Moscow", "hours": hours or default_hours, **fields}
    )


def moscow(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MOSCOW)


def berlin(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN, fold=fold)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 2026-11-20 is a Friday, 2026-11-23 the Monday after.
FRIDAY_5PM = moscow("2026-11-20T17:00")


# --- Targets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration", "business"),
    [
        ("30s", timedelta(seconds=30), False),
        ("15m", timedelta(minutes=15), False),
        ("2h", timedelta(hours=2), False),
        ("1d", timedelta(days=1), False),
        ("1d12h", timedelta(hours=36), False),
        ("1w", timedelta(weeks=1), False),
        ("8bh", timedelta(hours=8), True),
        ("90bm", timedelta(minutes=90), True),
        ("1bh30bm", timedelta(minutes=90), True),
        ("8 business hours", timedelta(hours=8), True),
        ("1 business hour", timedelta(hours=1), True),
        ("90 business minutes", timedelta(minutes=90), True),
        ("8 Business  HOURS", timedelta(hours=8), True),
    ],
)
def test_a_target_is_read_and_written_back_the_same(
    text: str, duration: timedelta, business: bool
) -> None:
    target = Target.parse(text)
    assert target == Target(duration, business)
    assert Target.parse(str(target)) == target


def test_a_target_is_written_the_short_way() -> None:
    assert str(Target.parse("8 business hours")) == "8bh"
    assert str(Target.parse("90bm")) == "1bh30bm"
    assert str(Target.parse("1d12h")) == "1d12h"


@pytest.mark.parametrize("text", ["8 hours business", "-1bh", "bh", "", "0bh", "0h", "8 bh x"])
def test_a_target_that_is_not_a_deadline_is_refused_with_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"like 8bh, 90bm, 1bh30bm or 8 business hours"):
        Target.parse(text)


def test_business_time_is_whole_minutes() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        Target(timedelta(seconds=90), business=True)


# --- Calendar time and business time ----------------------------------------------------------


def test_eight_business_hours_from_friday_5pm_fall_due_monday_4pm() -> None:
    due = calendar().add(FRIDAY_5PM, Target.parse("8bh"))
    assert due == moscow("2026-11-23T16:00")  # one hour on Friday, seven on Monday


def test_one_day_from_friday_5pm_is_saturday_5pm_whatever_the_hours() -> None:
    assert calendar().add(FRIDAY_5PM, Target.parse("1d")) == moscow("2026-11-21T17:00")


def test_split_shifts_skip_the_lunch_break() -> None:
    split = calendar({day: ["09:00-13:00", "14:00-18:00"] for day in WEEKDAYS_ONLY})
    due = split.add(moscow("2026-11-18T11:00"), Target.parse("5bh"))
    assert due == moscow("2026-11-18T17:00")


@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-11-22T12:00", "2026-11-23T10:00"),  # Sunday
        ("2026-11-24T03:00", "2026-11-24T10:00"),  # before opening
        ("2026-11-24T18:00", "2026-11-25T10:00"),  # at closing
        ("2026-11-24T21:30", "2026-11-25T10:00"),  # after hours
    ],
)
def test_a_start_outside_working_hours_counts_from_the_next_opening(start: str, due: str) -> None:
    assert calendar().add(moscow(start), Target.parse("1bh")) == moscow(due)


def test_time_that_runs_out_at_closing_falls_due_at_closing_not_at_the_next_opening() -> None:
    assert calendar().add(FRIDAY_5PM, Target.parse("1bh")) == moscow("2026-11-20T18:00")
    split = calendar({"wed": ["09:00-13:00", "14:00-18:00"]})
    assert split.add(moscow("2026-11-18T11:00"), Target.parse("2bh")) == moscow("2026-11-18T13:00")


def test_add_is_exact_to_the_second_and_answers_in_utc() -> None:
    start = datetime(2026, 11, 20, 22, 0, 7, 250, tzinfo=ZoneInfo("Asia/Shanghai"))  # 17:00:07
    due = calendar().add(start, Target.parse("8bh"))
    assert due.tzinfo is UTC
    assert due == utc("2026-11-23T13:00:07.000250")  # Monday 16:00:07 in Moscow
    assert calendar().add(start, Target.parse("1d")).tzinfo is UTC


def test_a_start_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar().add(datetime(2026, 11, 20, 17), Target.parse("8bh"))  # noqa: DTZ001


def test_a_calendar_without_enough_working_time_gives_up_instead_of_scanning_forever() -> None:
    one_minute_a_week = calendar({"mon": ["09:00-09:01"]})
    with pytest.raises(ValueError, match="does not fit"):
        one_minute_a_week.add(FRIDAY_5PM, Target.parse("1000bh"))


def test_always_counts_every_minute() -> None:
    saturday = moscow("2026-11-21T23:30")
    assert ALWAYS.add(saturday, Target.parse("8bh")) == saturday + timedelta(hours=8)
    assert ALWAYS.is_working(saturday)


# --- Holidays -----------------------------------------------------------------------------


def test_a_holiday_monday_after_the_weekend_moves_the_due_time_to_tuesday() -> None:
    long_weekend = calendar(holidays=["2026-11-23"])
    due = long_weekend.add(FRIDAY_5PM, Target.parse("8bh"))
    assert due == moscow("2026-11-24T16:00")


def test_new_year_holidays_spanning_a_weekend_are_skipped_whole() -> None:
    new_year = calendar(holidays=[date(2026, 12, 31) + timedelta(days=n) for n in range(9)])
    # Wednesday 30 December, 17:00: one hour that evening, then nothing until Monday 11 January.
    due = new_year.add(moscow("2026-12-30T17:00"), Target.parse("8bh"))
    assert due == moscow("2027-01-11T16:00")


ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//ReturnDesk tests//EN
BEGIN:VEVENT
UID:defender-day
DTSTART;VALUE=DATE:20270223
SUMMARY:Defender of the Fatherland Day
END:VEVENT
BEGIN:VEVENT
UID:spring-break
DTSTART;VALUE=DATE:20270308
DTEND;VALUE=DATE:20270311
SUMMARY:Three days off
END:VEVENT
BEGIN:VEVENT
UID:unity-day
DTSTART;VALUE=DATE:20261104
RRULE:FREQ=YEARLY
SUMMARY:Unity Day
END:VEVENT
BEGIN:VEVENT
UID:meeting
DTSTART:20270315T100000Z
DTEND:20270315T110000Z
SUMMARY:A meeting does not close the day
END:VEVENT
END:VCALENDAR
"""


def test_holidays_are_read_from_an_ics_file(tmp_path: Path) -> None:
    (tmp_path / "holidays.ics").write_text(ICS.replace("\n", "\r\n"))
    office = calendar(holidays=["2027-01-01"], holidays_ical="holidays.ics").with_ical(tmp_path)
    # The meeting on 15 March has a time of day, so it leaves the day open.
    assert {day for day in office.holidays if day < date(2028, 1, 1)} == {
        date(2026, 11, 4),  # a yearly event...
        date(2027, 1, 1),  # written in the calendar itself
        date(2027, 2, 23),  # an all-day event
        date(2027, 3, 8),  # a three-day event, its end exclusive
        date(2027, 3, 9),
        date(2027, 3, 10),
        date(2027, 11, 4),  # ...every year
    }
    assert date(2040, 11, 4) in office.holidays
    # Tuesday 2 November 2027, 17:00: one hour, then Wednesday, then Thursday is Unity Day.
    due = office.add(moscow("2027-11-02T17:00"), Target.parse("18bh"))
    assert due == moscow("2027-11-05T17:00")


def test_an_ics_path_can_be_absolute(tmp_path: Path) -> None:
    ics = tmp_path / "holidays.ics"
    ics.write_text(ICS)
    office = calendar(holidays_ical=str(ics)).with_ical(Path("/nonexistent"))
    assert date(2027, 2, 23) in office.holidays


def test_without_an_ics_file_the_calendar_is_unchanged(tmp_path: Path) -> None:
    office = calendar()
    assert office.with_ical(tmp_path) is office


def test_a_missing_ics_file_is_named_in_the_error(tmp_path: Path) -> None:
    office = calendar(holidays_ical="holidays.ics")
    with pytest.raises(ValueError, match=r"holidays file .*holidays\.ics does not exist"):
        office.with_ical(tmp_path)


def test_an_ics_path_that_is_not_a_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "holidays.ics").mkdir()
    with pytest.raises(ValueError, match=r"cannot read the holidays file .*holidays\.ics"):
        calendar(holidays_ical="holidays.ics").with_ical(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        "these are not holidays\n",
        "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270223\nEND:VEVENT\n",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:no start\nEND:VEVENT\nEND:VCALENDAR\n",
    ],
)
def test_a_file_that_is_not_icalendar_is_named_in_the_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "holidays.ics").write_text(content)
    with pytest.raises(ValueError, match=r"holidays\.ics is not a valid iCalendar \(\.ics\) file"):
        calendar(holidays_ical="holidays.ics").with_ical(tmp_path)


# --- Daylight saving time -----------------------------------------------------------------

SPRING_FORWARD = "2027-03-28"  # a Sunday: Berlin's clocks jump from 02:00 to 03:00
FALL_BACK = "2026-10-25"  # a Sunday: Berlin's clocks go back from 03:00 to 02:00


def berlin_sundays(*periods: str) -> Calendar:
    return Calendar.model_validate({"timezone": "Europe/Berlin", "hours": {"sun": list(periods)}})


def test_a_period_over_the_spring_switch_counts_its_real_two_hours() -> None:
    night = berlin_sundays("01:00-04:00")
    sunday = berlin(f"{SPRING_FORWARD}T00:00")
    assert night.working_time(sunday, sunday + timedelta(days=1)) == timedelta(hours=2)
    assert night.add(sunday, Target.parse("2bh")) == berlin(f"{SPRING_FORWARD}T04:00")


def test_a_period_over_the_autumn_switch_counts_its_real_four_hours() -> None:
    night = berlin_sundays("01:00-04:00")
    sunday = berlin(f"{FALL_BACK}T00:00")
    assert night.working_time(sunday, sunday + timedelta(days=1)) == timedelta(hours=4)
    # 01:00 summer time is 23:00 UTC; three real hours later the clocks show 03:00 winter time.
    assert night.add(sunday, Target.parse("3bh")) == utc(f"{FALL_BACK}T02:00")


def test_open_all_day_counts_real_elapsed_time_across_both_switches() -> None:
    berlin_always = ALWAYS.model_copy(update={"timezone": "Europe/Berlin"})
    for switch in (SPRING_FORWARD, FALL_BACK):
        saturday_noon = berlin(f"{switch}T12:00") - timedelta(days=1)
        due = berlin_always.add(saturday_noon, Target.parse("24bh"))
        assert due - saturday_noon == timedelta(hours=24)
        sunday_noon = berlin(f"{switch}T12:00")
        assert berlin_always.working_time(saturday_noon, sunday_noon) == sunday_noon.astimezone(
            UTC
        ) - saturday_noon.astimezone(UTC)


def test_a_boundary_in_the_skipped_hour_moves_to_the_moment_clocks_jump() -> None:
    late_start = berlin_sundays("02:30-05:00")  # opens when the clocks jump to 03:00
    sunday = berlin(f"{SPRING_FORWARD}T00:00")
    assert late_start.add(sunday, Target.parse("1bh")) == berlin(f"{SPRING_FORWARD}T04:00")
    assert late_start.working_time(sunday, sunday + timedelta(days=1)) == timedelta(hours=2)
    assert not late_start.is_working(utc(f"{SPRING_FORWARD}T00:59"))
    assert late_start.is_working(utc(f"{SPRING_FORWARD}T01:00"))

    early_end = berlin_sundays("00:00-02:30")  # closes when the clocks jump
    assert early_end.working_time(sunday, sunday + timedelta(days=1)) == timedelta(hours=2)


def test_a_boundary_in_the_repeated_hour_is_its_first_occurrence() -> None:
    repeated_start = berlin_sundays("02:30-06:00")
    sunday = berlin(f"{FALL_BACK}T00:00")
    # From 02:30 summer time (00:30 UTC) to 06:00 winter time (05:00 UTC).
    assert repeated_start.working_time(sunday, sunday + timedelta(days=1)) == timedelta(
        hours=4, minutes=30
    )
    assert repeated_start.is_working(berlin(f"{FALL_BACK}T02:30", fold=0))


# --- Midnight -----------------------------------------------------------------------------


def test_a_night_shift_runs_on_through_midnight() -> None:
    night = calendar({"fri": ["22:00-24:00"], "sat": ["00:00-06:00"]})
    assert night.add(moscow("2026-11-20T23:00"), Target.parse("3bh")) == moscow("2026-11-21T02:00")
    assert night.add(moscow("2026-11-20T22:00"), Target.parse("2bh")) == moscow("2026-11-21T00:00")
    assert night.is_working(moscow("2026-11-21T00:00"))
    assert night.working_time(moscow("2026-11-20T12:00"), moscow("2026-11-21T12:00")) == timedelta(
        hours=8
    )


def test_midnight_at_the_end_of_a_day_is_written_24_00() -> None:
    assert str(Period.parse("22:00-24:00")) == "22:00-24:00"
    dumped = calendar({"fri": ["22:00-24:00"]}).model_dump(mode="json")
    assert dumped["hours"] == {"fri": ["22:00-24:00"]}
    with pytest.raises(ValidationError, match="24:00 for midnight"):
        calendar({"fri": ["22:00-00:00"]})


# --- Working time, reminders --------------------------------------------------------------


def test_working_time_between_two_instants_leaves_out_nights_and_weekends() -> None:
    office = calendar()
    assert office.working_time(FRIDAY_5PM, moscow("2026-11-23T16:00")) == timedelta(hours=8)
    assert office.working_time(moscow("2026-11-23T16:00"), FRIDAY_5PM) == timedelta(0)


def test_working_includes_opening_but_not_closing_and_not_holidays() -> None:
    office = calendar(holidays=["2026-11-23"])
    assert office.is_working(moscow("2026-11-20T09:00"))
    assert not office.is_working(moscow("2026-11-20T18:00"))
    assert not office.is_working(moscow("2026-11-21T12:00"))  # Saturday
    assert not office.is_working(moscow("2026-11-23T12:00"))  # a holiday Monday


def test_three_quarters_of_an_eight_hour_window_from_friday_5pm_is_monday_2pm() -> None:
    office = calendar()
    due = office.add(FRIDAY_5PM, Target.parse("8bh"))
    # Six working hours: one on Friday, five on Monday from 09:00.
    assert office.share(FRIDAY_5PM, due, 0.75) == moscow("2026-11-23T14:00")
    assert office.share(FRIDAY_5PM, due, 1) == due
    assert office.share(FRIDAY_5PM, due, 0) == FRIDAY_5PM


def test_no_share_of_the_window_is_its_start_even_outside_working_hours() -> None:
    office = calendar()
    saturday = moscow("2026-11-21T12:00")
    due = office.add(saturday, Target.parse("1bh"))  # Monday 10:00
    assert office.share(saturday, due, 0) == saturday
    assert office.share(saturday, saturday, 0.5) == saturday
    assert office.share(saturday, due, 0.5) == moscow("2026-11-23T09:30")


def test_a_share_is_a_fraction_between_zero_and_one() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        calendar().share(FRIDAY_5PM, FRIDAY_5PM + timedelta(days=3), 1.5)


# --- Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"hours": {"mon": ["09:00-13:00", "12:00-18:00"]}},
            r"on mon, 09:00-13:00 and 12:00-18:00 overlap; end one period before the next",
        ),
        (
            {"hours": {"sat": ["22:00-23:00", "20:00-24:00"]}},
            r"on sat, 20:00-24:00 and 22:00-23:00 overlap",
        ),
        ({"hours": {"mon": ["18:00-09:00"]}}, r"'18:00-09:00' ends before it begins"),
        ({"hours": {"mon": ["9 to 6"]}}, r"'9 to 6' is not a working period; write it like"),
        ({"hours": {"mon": ["09:00-25:00"]}}, r"does not exist; use 00:00 to 24:00"),
        ({"hours": {"funday": ["09:00-18:00"]}}, r"Input should be 'mon', 'tue'"),
        (
            {"hours": {"mon": ["09:00-18:00"]}, "timezone": "Moscow"},
            r"'Moscow' is not a time zone; write an IANA name such as Europe/Moscow",
        ),
        ({"hours": {"mon": [], "tue": []}}, r"a calendar needs working hours on at least one day"),
        ({"hours": {}}, r"a calendar needs working hours on at least one day"),
        ({"hours": {"mon": ["09:00-18:00"]}, "weekends": []}, r"Extra inputs are not permitted"),
    ],
)
def test_a_calendar_that_makes_no_sense_is_refused_saying_what_to_write(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Calendar.model_validate(fields)


def test_periods_that_touch_do_not_overlap() -> None:
    split = calendar({"mon": ["14:00-18:00", "09:00-14:00"]})
    assert [str(period) for period in split.hours["mon"]] == ["09:00-14:00", "14:00-18:00"]


def test_the_first_opening_of_a_month_skips_its_holidays_and_weekend() -> None:
    # 1 May 2027 is a Saturday; with the Monday after a holiday, Tuesday opens the month.
    office = calendar(holidays=[date(2027, 5, 3)])
    start, end = moscow("2027-05-01T00:00"), moscow("2027-06-01T00:00")
    assert office.first_opening(start, end) == moscow("2027-05-04T09:00")
    assert ALWAYS.first_opening(start, end) == start  # always open: its first instant
    closed = calendar(holidays=[date(2027, 5, d) for d in range(1, 32)])
    assert closed.first_opening(start, end) is None  # a month with no working time
