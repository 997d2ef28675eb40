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


@dataclass(frozen=True)
class _Rule:
    """One row rule: where ``condition`` holds, a problem {column, code, detail}."""

    condition: pl.Expr
    code: str | pl.Expr
    column: str
    detail: pl.Expr | None = None


def _problem(condition: pl.Expr, code: str, column: str, detail: pl.Expr | None = None) -> _Rule:
    return _Rule(condition, code, column, detail)


def _rule_problems(frame: pl.DataFrame, rules: list[_Rule]) -> pl.DataFrame:
    """Every rule's problems (PROBLEM_SCHEMA), by line and then in the order of ``rules``.

    Each rule filters the frame once: only the rows with a problem are ever materialised.
    """
    hits = [
        frame.filter(rule.condition.fill_null(False)).select(
            pl.col(LINE).cast(pl.Int64).alias("line"),
            pl.lit(rule.column, dtype=pl.String).alias("column"),
            (pl.lit(rule.code) if isinstance(rule.code, str) else rule.code).cast(pl.String).alias("code"),
            (rule.detail if rule.detail is not None else pl.lit(None)).cast(pl.String).alias("detail"),
            pl.lit(order, dtype=pl.Int32).alias("_rule"),
        )
        for order, rule in enumerate(rules)
    ]
    return pl.concat(hits).sort("line", "_rule", maintain_order=True).drop("_rule")


def _normalised_code(column: str, aliases: dict[str, str]) -> pl.Expr:
    c = pl.col(column).str.normalize("NFKC").str.strip_chars()
    return c.replace(aliases) if aliases else c


def read_atena(path: Path, settings: TenkenSettings) -> tuple[pl.DataFrame, int]:
    """F1b: 宛名番号 → 個人番号. A 宛名番号 listed twice refuses the file (ambiguous)."""
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
                    quoted_value_expr(pl.col("atena_no"), safe=r"^[A-Za-z0-9]{1,16}$").alias("detail"),
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
    return lookup, frame.height


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
    frame = table.frame
    atena_rows = None
    if f1b is not None:
        lookup, atena_rows = read_atena(f1b, settings)
        frame = frame.join(lookup, on="atena_no", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("my_number_atena"))

    frame = parse_dates(frame, "birth_date_text", today=today, prefix="birth")
    sex_aliases = {**SEX_CODES, **settings.codes.sex}
    frame = frame.with_columns(
        _normalised_code("sex_text", sex_aliases).alias("sex_code"),
        _normalised_code("resident_class", dict(settings.codes.resident_class)).alias("resident_code"),
        _normalised_code("acquisition_route", dict(settings.codes.acquisition_route)).alias("route_code"),
    )

    own = pl.col("my_number")
    from_atena = pl.col("my_number_atena")
    number = pl.coalesce(from_atena, own)
    atena = pl.col("atena_no")
    rules = [
        _problem(atena.is_null(), "REQUIRED_BLANK", "宛名番号"),
        _problem(
            atena.is_not_null() & ~atena.str.contains(r"^[A-Za-z0-9]{1,16}$"), "ATENA_FORMAT", "宛名番号"
        ),
        _problem(
            atena.is_not_null() & atena.is_duplicated(),
            "ATENA_DUPLICATE",
            "宛名番号",
            quoted_value_expr(atena, safe=r"^[A-Za-z0-9]{1,16}$"),
        ),
        _problem(
            number.is_null(),
            "MYNUMBER_MISSING" if f1b is not None else "REQUIRED_BLANK",
            "個人番号",
        ),
        _problem(
            number.is_not_null() & ~number.str.contains(r"^[0-9]+$"),
            "MYNUMBER_NOT_ASCII",
            "個人番号",
        ),
        _problem(
            number.str.contains(r"^[0-9]+$") & (number.str.len_chars() != 12),
            "MYNUMBER_LENGTH",
            "個人番号",
            pl.format("{}桁", number.str.len_chars()),
        ),
        _problem(
            number.str.contains(r"^[0-9]{12}$") & ~my_number_valid_expr(number),
            "MYNUMBER_CHECK_DIGIT",
            "個人番号",
        ),
        _problem(
            own.is_not_null() & from_atena.is_not_null() & (own != from_atena),
            "MYNUMBER_CONFLICT",
            "個人番号",
        ),
        _problem(pl.col("name").is_null(), "REQUIRED_BLANK", "氏名"),
        _problem(pl.col("birth_date_text").is_null(), "REQUIRED_BLANK", "生年月日"),
        _Rule(
            pl.col("birth_problem").is_not_null(),
            pl.col("birth_problem"),  # the date problem's own code
            "生年月日",
            quoted_value_expr(pl.col("birth_date_text")),
        ),
        _problem(
            pl.col("name_kana").is_not_null() & ~pl.col("name_kana").str.contains(KANA_ALLOWED),
            "KANA_CHARACTERS",
            "氏名カナ",
        ),
        _problem(
            pl.col("resident_code").is_not_null() & ~pl.col("resident_code").is_in(RESIDENT_CLASSES),
            "RESIDENT_CLASS_CODE",
            "住登区分",
            quoted_value_expr(pl.col("resident_class")),
        ),
        _problem(
            pl.col("route_code").is_not_null() & ~pl.col("route_code").is_in(ACQUISITION_ROUTES),
            "ROUTE_CODE",
            "取得経路",
            quoted_value_expr(pl.col("acquisition_route")),
        ),
    ]
    if jimu.holds.sex:
        rules.append(
            _problem(
                pl.col("sex_code").is_not_null() & ~pl.col("sex_code").is_in(["1", "2"]),
                "SEX_CODE",
                "性別",
                quoted_value_expr(pl.col("sex_text")),
            )
        )
    checked = frame.with_columns(number.alias("my_number"))
    row_problems = _rule_problems(frame, rules)
    control = control_character_problems(frame, F1_COLUMNS)
    value_problems = without_repeated_headers(pl.concat([row_problems, control]), table.problems)
    all_problems = pl.concat([table.problems, value_problems]).cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
    if all_problems.height and settings.input.on_row_error == "reject":
        raise TenkenInputError(problems_from_frame(all_problems, table.file))

    codes_per_line = all_problems.group_by("line").agg(
        pl.col("code").unique(maintain_order=True).str.join(",").alias("problem_codes")
    )
    exclude_auto = settings.scope.exclude_auto_linked
    records = (
        checked.join(codes_per_line, left_on=LINE, right_on="line", how="left", maintain_order="left")
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
            pl.lit(_file_id(f1, f1b)).alias("extract_id"),
            pl.col(LINE).alias("line"),
            "atena_no",
            "my_number",
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
        atena_rows=atena_rows,
        notes=tuple(table.notes),
    )
    return ExtractOutcome(
        records=records,
        problems=all_problems.with_columns(pl.lit(table.file).alias("file")),
        stats=stats,
    )
