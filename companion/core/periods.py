"""Report periods: today, this week, last week or a range of days, in one time zone.

Days are calendar days in the given time zone (None: this computer's, with its own
daylight-saving rules on each day); weeks start on Monday. A period is a closed range of
days; ``utc_bounds`` turns it into the half-open UTC range that stored times are compared
with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIOD_NAMES = ("today", "this week", "last week")


class PeriodError(ValueError):
    """A period or time zone that makes no sense (the message says why)."""


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(f"the period ends ({self.last}) before it starts ({self.first})")

    def days(self) -> Iterator[date]:
        """Every day of the period, in order."""
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    @property
    def day_count(self) -> int:
        """How many days the period has."""
        return (self.last - self.first).days + 1

    def utc_bounds(self, tz: tzinfo | None) -> tuple[datetime, datetime]:
        """[start, end) in UTC: midnight of the first day to midnight after the last."""
        return start_of(self.first, tz), start_of(self.last + timedelta(days=1), tz)

    def label(self) -> str:
        """"2026-03-02" or "2026-03-02 to 2026-03-08"."""
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def start_of(day: date, tz: tzinfo | None) -> datetime:
    """Midnight at the start of ``day`` in ``tz`` (None: this computer's zone), in UTC."""
    if tz is None:
        return datetime.combine(day, time.min).astimezone().astimezone(UTC)
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def local_day(moment: datetime, tz: tzinfo | None) -> date:
    """The calendar day of an aware moment in ``tz`` (None: this computer's zone)."""
    return moment.astimezone(tz).date()


def today(now: datetime, tz: tzinfo | None) -> Period:
    """The day of ``now``."""
    day = local_day(now, tz)
    return Period(day, day)


def this_week(now: datetime, tz: tzinfo | None) -> Period:
    """Monday of ``now``'s week to its Sunday."""
    monday = local_day(now, tz) - timedelta(days=local_day(now, tz).weekday())
    return Period(monday, monday + timedelta(days=6))


def last_week(now: datetime, tz: tzinfo | None) -> Period:
    """The Monday-to-Sunday week before ``now``'s."""
    week = this_week(now, tz)
    return Period(week.first - timedelta(days=7), week.first - timedelta(days=1))


def named(name: str, now: datetime, tz: tzinfo | None) -> Period:
    """One of PERIOD_NAMES as a period."""
    if name == "today":
        return today(now, tz)
    if name == "this week":
        return this_week(now, tz)
    if name == "last week":
        return last_week(now, tz)
    raise PeriodError(f"unknown period {name!r} (one of: {', '.join(PERIOD_NAMES)})")


def parse_day(text: str) -> date:
    """A YYYY-MM-DD day, with a clear message otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{text!r} is not a day (write it as YYYY-MM-DD)") from None


def between(first: str, last: str) -> Period:
    """The days ``first`` to ``last`` (YYYY-MM-DD, both included)."""
    return Period(parse_day(first), parse_day(last))


def time_zone(name: str | None) -> tzinfo | None:
    """The named IANA time zone, or None (this computer's) when no name is given."""
    if name is None or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(f"unknown time zone {name!r} (use a name like Europe/Paris)") from None
