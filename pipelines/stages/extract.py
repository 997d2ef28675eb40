"""抽出: read F1 (and F1b), validate every row, and decide each row's scope.

Grain: one output row per F1 data row. Every row ends up 点検対象, 対象外 or 要修正, so
``rows_read == in_scope + out_of_scope + needs_fix`` always holds (``ExtractStats``).

Row-level problems are collected for the whole file at once. With ``on_row_error: reject``
(the default) any problem refuses the file and lists every problem; with ``quarantine``
the rows with problems become 要修正 and carry their problem codes to 不一致確認.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.checkdigit import my_number_valid_expr
from pipelines.dates import parse_dates
from pipelines.errors import PROBLEM_SCHEMA, TenkenInputError, problems_from_frame
from pipelines.files.csv_reader import (
    LINE,
    CsvTable,
    control_character_problems,
    read_csv_table,
    without_repeated_headers,
)
from pipelines.files.limits import input_limit
from pipelines.privacy import quoted_value_expr
from pipelines.stages.row_rules import RowRule, cell_limit_rules, rule_problems
from schemas.codes import ACQUISITION_ROUTES, AUTO_LINKED, RESIDENT_CLASSES, SEX_CODES, Scope
from schemas.config import JimuSpec, TenkenSettings
from schemas.extract import F1_COLUMNS, F1B_COLUMNS

#: characters allowed in カナ氏名: kana (full/half width, hiragana), sound marks, spaces, dashes, dots
KANA_ALLOWED = r"^[\u3041-\u3096\u3099-\u309F\u30A0-\u30FF\uFF65-\uFF9F\u3000 \-‐－ー・･=＝]*$"


@dataclass(frozen=True)
class ExtractStats:
    """Counts of one extract. ``rows_read == in_scope + out_of_scope + needs_fix``."""

    rows_read: int
    in_scope: int
    out_of_scope: int
    needs_fix: int
    blank_records: int
    problems: int
    encoding: str
    extract_id: str
    extra_columns: tuple[str, ...] = ()
    atena_rows: int | None = None  # rows of F1b, when given
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ExtractOutcome:
    records: pl.DataFrame  # ExtractRecords
    problems: pl.DataFrame  # PROBLEM_SCHEMA + file, one row per problem (quarantine mode)
    stats: ExtractStats


def _file_id(*paths: Path | None) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p is not None:
            with p.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def _normalised_code(column: str, aliases: dict[str, str]) -> pl.Expr:
    c = pl.col(column).str.normalize("NFKC").str.strip_chars()
    return c.replace(aliases) if aliases else c


def read_atena(path: Path, settings: TenkenSettings) -> tuple[pl.DataFrame, CsvTable]:
    """F1b: 宛名番号 → 個人番号. A 宛名番号 listed twice refuses the file (ambiguous).

    Returns the lookup (``atena_no``, ``my_number_atena``) and the file as read."""
    table = read_csv_table(
        path,
        columns=F1B_COLUMNS,
        encoding=settings.input.encoding,
        aliases=settings.columns,
        max_bytes=input_limit(settings.input.max_input_bytes),
    )
    frame = table.frame
    dup = frame.filter(pl.col("atena_no").is_not_null() & pl.col("atena_no").is_duplicated())
    problems = problems_from_frame(
        pl.concat(
            [
                table.problems,
                dup.select(
                    pl.col(LINE).alias("line"),
                    pl.lit("宛名番号").alias("column"),
                    pl.lit("ATENA_DUPLICATE").alias("code"),
                    quoted_value_expr(pl.col("atena_no"), safe=ATENA_FORM).alias("detail"),
                ),
            ]
        ),
        table.file,
    )
    if problems:
        raise TenkenInputError(problems)
    lookup = frame.filter(pl.col("atena_no").is_not_null()).select(
        "atena_no", pl.col("my_number").alias("my_number_atena")
    )
    return lookup, table


#: options of a read that switch rules of ``F1_RULES`` on or off
WITH_ATENA = "F1b あり"  # 個人番号 comes from F1b: a blank one is MYNUMBER_MISSING
HOLDS_SEX = "性別を保有"  # the 事務 holds 性別 (otherwise the column is ignored)

_ATENA = pl.col("atena_no")
#: a 宛名番号 as the contract has it: quoted in messages (it is nobody's data); anything else
#: in its column may be
ATENA_FORM = r"^[A-Za-z0-9]{1,16}$"
_OWN = pl.col("my_number")  # as written in F1
_FROM_ATENA = pl.col("my_number_atena")  # from F1b, when given
_NUMBER = pl.col("number")  # the one that is checked: F1b's, else F1's (``_prepared``)
_DIGITS = _NUMBER.str.contains(r"^[0-9]+$")

#: the row rules of F1, in the order a person reads a row (left to right)
F1_RULES: tuple[RowRule, ...] = (
    RowRule("宛名番号", "REQUIRED_BLANK", _ATENA.is_null()),
    RowRule("宛名番号", "ATENA_FORMAT", _ATENA.is_not_null() & ~_ATENA.str.contains(r"^[A-Za-z0-9]{1,16}$")),
    RowRule(
        "宛名番号",
        "ATENA_DUPLICATE",
        _ATENA.is_not_null() & _ATENA.is_duplicated(),
        value=_ATENA,
        shown_if=ATENA_FORM,
    ),
    RowRule("個人番号", "REQUIRED_BLANK", _NUMBER.is_null(), unless=WITH_ATENA),
    RowRule("個人番号", "MYNUMBER_MISSING", _NUMBER.is_null(), requires=WITH_ATENA),
    RowRule("個人番号", "MYNUMBER_NOT_ASCII", _NUMBER.is_not_null() & ~_DIGITS),
    RowRule(
        "個人番号",
        "MYNUMBER_LENGTH",
        _DIGITS & (_NUMBER.str.len_chars() != 12),
        pl.format("{}桁", _NUMBER.str.len_chars()),
    ),
    RowRule(
        "個人番号",
        "MYNUMBER_CHECK_DIGIT",
        _NUMBER.str.contains(r"^[0-9]{12}$") & ~my_number_valid_expr(_NUMBER),
    ),
    RowRule(
        "個人番号",
        "MYNUMBER_CONFLICT",
        _OWN.is_not_null() & _FROM_ATENA.is_not_null() & (_OWN != _FROM_ATENA),
    ),
    RowRule("氏名", "REQUIRED_BLANK", pl.col("name").is_null()),
    RowRule("生年月日", "REQUIRED_BLANK", pl.col("birth_date_text").is_null()),
    RowRule(
        "生年月日",
        pl.col("birth_problem"),  # the date parser's own code (DATE_FUTURE, …)
        pl.col("birth_problem").is_not_null(),
        value=pl.col("birth_date_text"),
    ),
    RowRule(
        "氏名カナ",
        "KANA_CHARACTERS",
        pl.col("name_kana").is_not_null() & ~pl.col("name_kana").str.contains(KANA_ALLOWED),
    ),
    RowRule(
        "住登区分",
        "RESIDENT_CLASS_CODE",
        pl.col("resident_code").is_not_null() & ~pl.col("resident_code").is_in(RESIDENT_CLASSES),
        value=pl.col("resident_class"),
    ),
    RowRule(
        "取得経路",
        "ROUTE_CODE",
        pl.col("route_code").is_not_null() & ~pl.col("route_code").is_in(ACQUISITION_ROUTES),
        value=pl.col("acquisition_route"),
    ),
    RowRule(
        "性別",
        "SEX_CODE",
        pl.col("sex_code").is_not_null() & ~pl.col("sex_code").is_in(["1", "2"]),
        value=pl.col("sex_text"),
        requires=HOLDS_SEX,
    ),
    *cell_limit_rules(F1_COLUMNS),
)


def _with_atena(
    frame: pl.DataFrame, f1b: Path | None, settings: TenkenSettings
) -> tuple[pl.DataFrame, CsvTable | None]:
    """``my_number_atena`` from F1b by 宛名番号 (null throughout when no F1b is given)."""
    if f1b is None:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("my_number_atena")), None
    lookup, atena = read_atena(f1b, settings)
    return frame.join(lookup, on="atena_no", how="left", maintain_order="left"), atena


def _prepared(frame: pl.DataFrame, settings: TenkenSettings, today: date) -> pl.DataFrame:
    """What the rules read: parsed dates, normalised codes, and the ``number`` checked."""
    frame = parse_dates(frame, "birth_date_text", today=today, prefix="birth")
    return frame.with_columns(
        _normalised_code("sex_text", {**SEX_CODES, **settings.codes.sex}).alias("sex_code"),
        _normalised_code("resident_class", dict(settings.codes.resident_class)).alias("resident_code"),
        _normalised_code("acquisition_route", dict(settings.codes.acquisition_route)).alias("route_code"),
        pl.coalesce(_FROM_ATENA, _OWN).alias("number"),
    )


def _scoped(
    frame: pl.DataFrame,
    problems: pl.DataFrame,
    *,
    settings: TenkenSettings,
    jimu: JimuSpec,
    round_id: str,
    extract_id: str,
) -> pl.DataFrame:
    """ExtractRecords: every row with its scope; a row with a problem is 要修正."""
    codes_per_line = problems.group_by("line").agg(
        pl.col("code").unique(maintain_order=True).str.join(",").alias("problem_codes")
    )
    exclude_auto = settings.scope.exclude_auto_linked
    return (
        frame.join(codes_per_line, left_on=LINE, right_on="line", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("problem_codes").is_not_null())
            .then(pl.lit(Scope.NEEDS_FIX.value))
            .when(pl.lit(exclude_auto) & (pl.col("route_code") == AUTO_LINKED))
            .then(pl.lit(Scope.OUT_OF_SCOPE.value))
            .otherwise(pl.lit(Scope.IN_SCOPE.value))
            .alias("scope"),
        )
        .select(
            pl.lit(round_id).alias("round_id"),
            pl.lit(extract_id).alias("extract_id"),
            pl.col(LINE).alias("line"),
            "atena_no",
            pl.col("number").alias("my_number"),
            "name",
            "name_kana",
            "birth_date_text",
            pl.col("birth_date"),
            (
                pl.when(pl.col("sex_code").is_in(["1", "2"])).then(pl.col("sex_code"))
                if jimu.holds.sex
                else pl.lit(None, dtype=pl.String)
            ).alias("sex"),
            "address",
            pl.when(pl.col("resident_code").is_in(RESIDENT_CLASSES))
            .then(pl.col("resident_code"))
            .alias("resident_class"),
            pl.when(pl.col("route_code").is_in(ACQUISITION_ROUTES))
            .then(pl.col("route_code"))
            .alias("acquisition_route"),
            "scope",
            "problem_codes",
        )
    )


def extract(
    f1: Path,
    *,
    settings: TenkenSettings,
    jimu: JimuSpec,
    round_id: str,
    today: date,
    f1b: Path | None = None,
) -> ExtractOutcome:
    """Read, validate and scope one F1. Raises TenkenInputError when the file is refused."""
    table: CsvTable = read_csv_table(
        f1,
        columns=F1_COLUMNS,
        encoding=settings.input.encoding,
        aliases=settings.columns,
        optional_absent=("個人番号",) if f1b is not None else (),
        max_bytes=input_limit(settings.input.max_input_bytes),
    )
    frame, atena = _with_atena(table.frame, f1b, settings)
    frame = _prepared(frame, settings, today)
    options = {WITH_ATENA} if f1b is not None else set()
    if jimu.holds.sex:
        options.add(HOLDS_SEX)
    row_problems = rule_problems(frame, F1_RULES, options)
    control = control_character_problems(frame, F1_COLUMNS)
    value_problems = without_repeated_headers(pl.concat([row_problems, control]), table.problems)
    all_problems = pl.concat([table.problems, value_problems]).cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
    if all_problems.height and settings.input.on_row_error == "reject":
        raise TenkenInputError(problems_from_frame(all_problems, table.file))

    records = _scoped(
        frame, all_problems, settings=settings, jimu=jimu, round_id=round_id, extract_id=_file_id(f1, f1b)
    )
    counts = records["scope"].value_counts()
    by_scope = dict(zip(counts["scope"].to_list(), counts["count"].to_list(), strict=True))
    stats = ExtractStats(
        rows_read=records.height,
        in_scope=by_scope.get(Scope.IN_SCOPE.value, 0),
        out_of_scope=by_scope.get(Scope.OUT_OF_SCOPE.value, 0),
        needs_fix=by_scope.get(Scope.NEEDS_FIX.value, 0),
        blank_records=table.blank_records,
        problems=all_problems.height,
        encoding=table.encoding,
        extract_id=records["extract_id"][0],
        extra_columns=tuple(table.extra_columns),
        atena_rows=atena.frame.height if atena is not None else None,
        notes=tuple(table.notes) + (tuple(atena.notes) if atena is not None else ()),
    )
    return ExtractOutcome(
        records=records,
        problems=all_problems.with_columns(pl.lit(table.file).alias("file")),
        stats=stats,
    )
