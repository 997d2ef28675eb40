"""Japan time: the one clock of tenken.

Every day and moment tenken records or compares (確認日 not in the future, a round's
start, the month a report covers, retention deadlines) is counted in Japan time, whatever
the machine's own zone. Japan has no daylight saving time, so a fixed UTC+9 offset is
exact and needs no time-zone database (Windows ships none; ``zoneinfo`` would need the
``tzdata`` package there).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")
#: the IANA name, for Dagster schedules and time partitions (which take a name, not an offset)
TIME_ZONE = "Asia/Tokyo"


def now() -> datetime:
    """The current moment in Japan time (aware)."""
    return datetime.now(JST)


def today() -> date:
    """Today's date in Japan."""
    return now().date()
