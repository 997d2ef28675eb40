"""定期報告 and the recheck calendar, read from the case store as of a moment.

The figures never come from the current state of a table: rounds from ``round_history``
and cases replayed from the append-only events up to the month's end, so the report of a
closed month is the same whenever it is made again. A month not yet over is reported as of
now (the figures so far), and says so.

Which agency × 事務 must report: see ``expected_partitions``. An expected one with no round
yet is a 未着手 row with zero figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from pipelines import agencies
from pipelines.cases.audit import cases_as_of
from pipelines.cases.rounds import rounds_as_of
from pipelines.cases.store import CaseStore
from pipelines.checkdigit import is_valid_agency_code
from pipelines.clock import JST, now
from pipelines.reporting import figures as f6
from pipelines.reporting import files as report_files
from schemas.config import TenkenSettings

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: the first month a report can be made for (the monthly partitions start here)
FIRST_MONTH = "2024-01"
TITLE = "マイナンバー紐付け定期点検 定期報告"


class ReportRequestError(ValueError):
    """The month or prefecture asked for cannot be reported (message in Japanese)."""


@dataclass(frozen=True)
class MonthlyReport:
    """The F6 report of one month at three levels, each without its 合計 row (writers add it)."""

    month: str
    only_prefecture: str | None  # the report of one prefecture's bodies, or None for all
    as_of: datetime
    month_closed: bool
    agency_jimu: pl.DataFrame
    agency: pl.DataFrame
    prefecture: pl.DataFrame

    @property
    def levels(self) -> dict[str, pl.DataFrame]:
        return {"agency_jimu": self.agency_jimu, "agency": self.agency, "prefecture": self.prefecture}

    @property
    def stem(self) -> str:
        """File name stem; a prefecture's report does not overwrite the full one."""
        return f"定期報告_{self.month}" + (f"_{self.only_prefecture}" if self.only_prefecture else "")


def month_end(month: str, *, current: datetime | None = None) -> tuple[datetime, bool]:
    """The moment a month's report is taken at, and whether the month is over.

    A closed month: its last microsecond (JST). The current month: now. A future month is
    refused: there is nothing to report yet.
    """
    found = MONTH.match(month)
    if not found:
        raise ReportRequestError(f"月は YYYY-MM の形で指定してください（例 2026-10）: {month!r}")
    if month < FIRST_MONTH:
        raise ReportRequestError(f"定期報告は {FIRST_MONTH} 以降の月について作れます: {month}")
    year, mon = int(found.group(1)), int(found.group(2))
    start = datetime(year, mon, 1, tzinfo=JST)
    nxt = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=JST)
    moment = current or now()
    if moment < start:
        raise ReportRequestError(f"{month} はまだ始まっていません")
    if moment >= nxt:
        return nxt - timedelta(microseconds=1), True
    return moment, False


def expected_partitions(
    settings: TenkenSettings, rounds: pl.DataFrame, *, prefecture: str | None = None
) -> pl.DataFrame:
    """agency, jimu of every partition that must report (grain: one row per agency × 事務).

    The ``recheck.plan`` when it lists any, plus every partition that has a round. For a
    prefecture's report, also every body of the prefecture (from the code table) × every 事務
    some body of the prefecture has started, so a municipality that has not begun shows as
    未着手 instead of being missing.
    """
    bad = [p.agency for p in settings.recheck.plan if not is_valid_agency_code(p.agency)]
    if bad:
        raise ReportRequestError(
            f"tenken.yaml の recheck.plan にある団体コードの検査数字が合いません: {', '.join(bad)}"
        )
    planned = pl.DataFrame(
        [(p.agency, p.jimu) for p in settings.recheck.plan],
        schema={"agency": pl.String, "jimu": pl.String},
        orient="row",
    )
    parts = [planned, rounds.select("agency", "jimu")]
    if prefecture:
        in_pref = pl.concat(parts).filter(pl.col("agency").str.starts_with(prefecture[:2]))
        bodies = pl.DataFrame({"agency": agencies.reporting_bodies(prefecture)})
        parts.append(bodies.join(in_pref.select("jimu").unique(), how="cross"))
    return pl.concat(parts).unique().sort("agency", "jimu")


def prefecture_code(code: str) -> str:
    """A prefecture asked for by its 6-digit code (390003) or its 2-digit number (39)."""
    if re.fullmatch(r"\d{2}", code) and 1 <= int(code) <= 47:
        return agencies.prefecture_code(code + "0000")
    if re.fullmatch(r"\d{6}", code) and is_valid_agency_code(code) and agencies.prefecture_code(code) == code:
        return code
    raise ReportRequestError(f"都道府県コードではありません: {code!r}（例 390003 または 39）")


def build_monthly_report(
    store: CaseStore,
    settings: TenkenSettings,
    month: str,
    *,
    prefecture: str | None = None,
    current: datetime | None = None,
) -> MonthlyReport:
    """Every figure of the month's report, as the store knew it at the month's end."""
    as_of, closed = month_end(month, current=current)
    code = prefecture_code(prefecture) if prefecture else None
    with store.reading() as conn:
        rounds = rounds_as_of(conn, as_of)
        cases = cases_as_of(conn, as_of, fields=("round_id", "grade", "outcome", "viewed", "likely_cause"))
    expected = expected_partitions(settings, rounds, prefecture=code)
    jimu_names = {slug: spec.name for slug, spec in settings.jimu.items()}
    figures = f6.agency_jimu_figures(expected, rounds, cases, jimu_names, settings.agencies)
    if code:
        figures = figures.filter(pl.col("prefecture") == code)
    return MonthlyReport(
        month=month,
        only_prefecture=code,
        as_of=as_of,
        month_closed=closed,
        agency_jimu=figures,
        agency=f6.rollup(figures, cases, "agency"),
        prefecture=f6.rollup(figures, cases, "prefecture"),
    )


def period_label(month: str, as_of: datetime, *, closed: bool) -> str:
    """How the report's period reads, in the workbook's title and on the terminal alike."""
    return f"{month} 末時点" if closed else f"{month}（{as_of:%m月%d日} 現在）"


@dataclass(frozen=True)
class ReportFiles:
    xlsx: Path
    csv: Path
    chart: Path


def write_report(report: MonthlyReport, out_dir: Path) -> ReportFiles:
    """The three files an office sends: .xlsx (three levels), .csv (cp932), .png chart."""
    month = period_label(report.month, report.as_of, closed=report.month_closed)
    xlsx = report_files.write_xlsx(report.levels, out_dir / f"{report.stem}.xlsx", month=month, title=TITLE)
    csv = report_files.write_csv(report.agency_jimu, out_dir / f"{report.stem}.csv", "agency_name")
    chart = report_files.write_chart(report.agency_jimu, out_dir / f"{report.stem}.png", month=month)
    return ReportFiles(xlsx=xlsx, csv=csv, chart=chart)
