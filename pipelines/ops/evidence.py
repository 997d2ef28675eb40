"""証跡 (evidence for auditors): Great Expectations suites over the boundary files and 照合.

pandera is the gate: each stage's contract runs as a blocking check inside its asset and
stops the graph. This module is the evidence: after a stage, a separate check states again,
across stages, what an auditor asks — every record was checked and nothing was lost — as
Great Expectations suites, and writes the HTML Data Docs the auditor opens from the check.

* 抽出 (F1): every row has exactly one 区分, so rows = 対象外 + 要修正 + 点検対象; 宛名番号 are
  unique; every 点検対象 has a valid check digit and a possible birth date.
* 住基照会要求 (F2): one request per 点検対象 and no other; 照会番号 unique, 10 digits; the files
  on disk hold what the manifest says (rows, SHA-256).
* 照会結果 (F3): one answer per request, same 個人番号, valid 処理結果; no orphan 照会番号.
* 照合 (F4): one judgement per 点検対象; 判定 and per-field judgements valid; 処理結果 other
  than 00 is always C; no orphan 照会番号; 照合結果.csv holds every row.

Cost is proportionate: polars reduces each stage to what the expectations are about — rows
per code and per combination of codes, a row of counted facts (rows, distinct 照会番号,
valid check digits, the range of birth dates), rows per outcome of each cross-stage join,
one row per file — and GX validates those small frames. The expectations are the real ones
(every code in its set, counts that add up to every row, nothing orphaned), but GX never
converts millions of rows to pandas: the four suites of a partition take about 2 s at 100k
rows and 5 s at 1M rows (``benchmarks/evidence.py``), plus the import of Great Expectations
(≈5 s, once per process, only when a suite runs). A CLI phase starts that import in a child
process as it begins (``prewarm``), so it overlaps the stages instead of following them; the
suites are then validated there. No frame holds 個人番号, names or addresses, so the Data
Docs hold no personal data, and nothing personal crosses to the child.

The Data Docs link bootstrap, jQuery and fonts from CDNs; tenken removes those links after
each build so that opening a page on an isolated terminal never reaches for the network.
The pages are rendered on the server side and stay readable, unstyled.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import clock
from pipelines.checkdigit import my_number_valid_expr
from pipelines.system import run_in_background
from schemas.codes import Grade, Judgement, ResultCode, Scope

OLDEST_BIRTH = 18680125  # 明治元年1月1日 (JIS X 0301)
COUNT = "件数"
INDEX_FILE = "証跡一覧.html"


#: a stage frame: a lazy one (a scan of the stage file) is read for what a suite counts only
Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class Expect:
    """One expectation as data: the GX class, its arguments, and what it means (Japanese)."""

    kind: str
    meaning: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """A frame GX validates, and what must hold for it. ``name`` says what one row is."""

    name: str
    frame: pl.DataFrame
    expectations: tuple[Expect, ...]


@dataclass(frozen=True)
class Suite:
    name: str  # the stage, as staff call it
    batches: tuple[Batch, ...]


@dataclass(frozen=True)
class Unmet:
    batch: str
    meaning: str
    observed: str


@dataclass(frozen=True)
class Checked:
    """One expectation as evaluated: what it means, whether it held, what was observed (counts)."""

    batch: str
    meaning: str
    passed: bool
    observed: str


@dataclass(frozen=True)
class EvidenceOutcome:
    success: bool
    evaluated: int
    unmet: tuple[Unmet, ...]
    checked: tuple[Checked, ...]  # every expectation, in the order of the suite
    validated_at: str  # JST, ISO 8601 to the second
    pages: tuple[Path, ...]  # one Data Docs page per batch
    index: Path
    seconds: float


def _in_set(column: str, values: Sequence[object], meaning: str) -> Expect:
    return Expect("ExpectColumnValuesToBeInSet", meaning, {"column": column, "value_set": list(values)})


def _not_null(column: str, meaning: str) -> Expect:
    return Expect("ExpectColumnValuesToNotBeNull", meaning, {"column": column})


def _equal(a: str, b: str, meaning: str) -> Expect:
    return Expect("ExpectColumnPairValuesToBeEqual", meaning, {"column_A": a, "column_B": b})


def _between(column: str, low: int | None, high: int | None, meaning: str) -> Expect:
    return Expect(
        "ExpectColumnValuesToBeBetween", meaning, {"column": column, "min_value": low, "max_value": high}
    )


def _covers(total: int, meaning: str) -> Expect:
    """The counts of a grouped batch add up to every row: no row was left out of it."""
    return Expect(
        "ExpectColumnSumToBeBetween", meaning, {"column": COUNT, "min_value": total, "max_value": total}
    )


def _counts(frame: Frame, **columns: pl.Expr) -> pl.DataFrame:
    """Rows grouped by the given values, with how many rows have each combination."""
    keys = [expr.alias(name) for name, expr in columns.items()]
    return (
        frame.lazy()
        .group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias(COUNT))
        .sort(list(columns), nulls_last=True)
        .collect()
    )


def _height(frame: Frame) -> int:
    return frame.height if isinstance(frame, pl.DataFrame) else int(frame.select(pl.len()).collect().item())


def _join_flags(left: Frame, right: Frame, on: str, names: tuple[str, str]) -> pl.LazyFrame:
    """One row per key of either side, with a flag per side: the orphans are the false ones."""
    return (
        left.lazy()
        .select(on)
        .with_columns(pl.lit(True).alias(names[0]))
        .join(
            right.lazy().select(on).with_columns(pl.lit(True).alias(names[1])),
            on=on,
            how="full",
            coalesce=True,
        )
        .with_columns(pl.col(names[0]).fill_null(False), pl.col(names[1]).fill_null(False))
    )


def _orphans(joined: pl.LazyFrame, names: tuple[str, str], meanings: tuple[str, str]) -> Batch:
    # one pass over the join for both (collect_all shares the common plan)
    flags, total = pl.collect_all(
        [
            joined.group_by(list(names))
            .agg(pl.len().cast(pl.Int64).alias(COUNT))
            .sort(list(names), nulls_last=True),
            joined.select(pl.len()),
        ]
    )
    return _orphan_batch(flags, int(total.item()), names, meanings)


def _orphan_batch(
    flags: pl.DataFrame, total: int, names: tuple[str, str], meanings: tuple[str, str]
) -> Batch:
    """The batch of a join's orphans: ``flags`` counts the keys per pair of side flags."""
    return Batch(
        f"{names[0].removesuffix('にある')}と{names[1].removesuffix('にある')}の突合",
        flags,
        (
            _in_set(names[0], [True], meanings[0]),
            _in_set(names[1], [True], meanings[1]),
            _covers(total, "突合した照会番号（または宛名番号）をすべて数えている"),
        ),
    )


def _in_scope(extract: Frame) -> pl.LazyFrame:
    return extract.lazy().filter(pl.col("scope") == Scope.IN_SCOPE.value)


def _one_row(**values: int | None) -> pl.DataFrame:
    return pl.DataFrame({k: [v] for k, v in values.items()}, schema=dict.fromkeys(values, pl.Int64))


def extract_suite(extract: Frame, today: date) -> Suite:
    """抽出 (F1): one row per F1 data row."""
    in_scope = _in_scope(extract)
    birth = pl.col("birth_date").dt.strftime("%Y%m%d").cast(pl.Int64)
    counted, checked = pl.collect_all(
        [
            in_scope.select(
                pl.len().alias("n"),
                my_number_valid_expr(pl.col("my_number")).sum().alias("valid"),
                birth.min().alias("min"),
                birth.max().alias("max"),
                birth.null_count().alias("nulls"),
            ),
            extract.lazy()
            .filter(pl.col("scope") != Scope.NEEDS_FIX.value)
            .select(pl.len().alias("n"), pl.col("atena_no").n_unique().alias("unique")),
        ]
    )
    facts = _one_row(
        点検対象件数=int(counted["n"].item()),
        検査数字が正しい件数=int(counted["valid"].item() or 0),
        生年月日の最小=counted["min"].item(),
        生年月日の最大=counted["max"].item(),
        生年月日が空欄の件数=int(counted["nulls"].item()),
        宛名番号のある件数=int(checked["n"].item()),
        宛名番号の種類数=int(checked["unique"].item()),
    )
    rows = _height(extract)
    in_scope_rows = int(counted["n"].item())
    return Suite(
        "抽出",
        (
            Batch(
                "区分ごとの件数",
                _counts(extract, 区分=pl.col("scope")),
                (
                    _not_null("区分", "すべての行に区分がある"),
                    _in_set("区分", [s.value for s in Scope], "区分は 点検対象・対象外・要修正 のいずれか"),
                    _covers(rows, "F1 の行数 = 対象外 + 要修正 + 点検対象"),
                ),
            ),
            Batch(
                "点検対象の個人番号・生年月日と宛名番号",
                facts,
                (
                    _equal(
                        "点検対象件数", "検査数字が正しい件数", "点検対象の個人番号はすべて検査数字が正しい"
                    ),
                    _between("生年月日が空欄の件数", 0, 0, "点検対象の生年月日はすべて読み取れている"),
                    _between("生年月日の最小", OLDEST_BIRTH, None, "生年月日は明治元年以降"),
                    _between("生年月日の最大", None, int(today.strftime("%Y%m%d")), "生年月日は今日以前"),
                    _equal(
                        "宛名番号のある件数",
                        "宛名番号の種類数",
                        "宛名番号が重複していない（点検対象・対象外）",
                    ),
                ),
            ),
            Batch(
                "点検対象の性別ごとの件数",
                _counts(in_scope, 性別=pl.col("sex")),
                (
                    _in_set("性別", ["1", "2"], "性別は 1 か 2（持たない事務は空欄）"),
                    _covers(in_scope_rows, "点検対象をすべて数えている"),
                ),
            ),
        ),
    )


@dataclass(frozen=True)
class FileFacts:
    """One F2 file: what the manifest says, and what is on disk."""

    name: str
    manifest_rows: int
    manifest_sha256: str
    path: Path

    def observed(self) -> dict[str, Any]:
        data = self.path.read_bytes() if self.path.is_file() else b""
        return {
            "ファイル名": self.name,
            "マニフェストの件数": self.manifest_rows,
            "ファイルの行数": data.count(b"\r\n"),
            "マニフェストのSHA-256": self.manifest_sha256,
            "ファイルのSHA-256": hashlib.sha256(data).hexdigest() if data else "",
        }


def request_files(out_dir: Path) -> list[FileFacts]:
    """The F2 files a manifest lists, beside it."""
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    return [
        FileFacts(f["ファイル名"], int(f["件数"]), f["SHA-256"], out_dir / f["ファイル名"])
        for f in manifest["ファイル"]
    ]


def inquiry_request_suite(requests: Frame, extract: Frame, files: Sequence[FileFacts]) -> Suite:
    """住基照会要求 (F2): one request per 点検対象."""
    in_scope = _in_scope(extract)
    ino = pl.col("inquiry_no")
    counted, in_scope_rows = pl.collect_all(
        [
            requests.lazy().select(
                pl.len().alias("n"),
                ino.n_unique().alias("unique"),
                (~ino.str.contains(r"^\d{10}$")).fill_null(True).sum().alias("bad"),
                my_number_valid_expr(pl.col("my_number")).sum().alias("valid"),
            ),
            in_scope.select(pl.len()),
        ]
    )
    request_rows = int(counted["n"].item())
    facts = _one_row(
        点検対象件数=int(in_scope_rows.item()),
        照会要求件数=request_rows,
        照会番号の種類数=int(counted["unique"].item()),
        半角数字10桁でない照会番号=int(counted["bad"].item()),
        検査数字が正しい件数=int(counted["valid"].item() or 0),
    )
    on_disk = pl.DataFrame(
        [f.observed() for f in files],
        schema={
            "ファイル名": pl.String,
            "マニフェストの件数": pl.Int64,
            "ファイルの行数": pl.Int64,
            "マニフェストのSHA-256": pl.String,
            "ファイルのSHA-256": pl.String,
        },
    )
    names = ("点検対象にある", "照会要求にある")
    return Suite(
        "住基照会要求",
        (
            Batch(
                "件数と照会番号",
                facts,
                (
                    _equal("点検対象件数", "照会要求件数", "照会要求の件数 = 抽出の点検対象件数"),
                    _equal("照会要求件数", "照会番号の種類数", "照会番号が重複していない"),
                    _between("半角数字10桁でない照会番号", 0, 0, "照会番号はすべて半角数字10桁"),
                    _equal("照会要求件数", "検査数字が正しい件数", "送る個人番号はすべて検査数字が正しい"),
                ),
            ),
            _orphans(
                _join_flags(in_scope, requests, "atena_no", names),
                names,
                ("点検対象でない照会要求がない", "照会要求のない点検対象がない"),
            ),
            Batch(
                "照会要求ファイル（F2）",
                on_disk,
                (
                    _equal(
                        "マニフェストの件数", "ファイルの行数", "各ファイルの行数がマニフェストの件数と同じ"
                    ),
                    _equal(
                        "マニフェストのSHA-256",
                        "ファイルのSHA-256",
                        "各ファイルの SHA-256 がマニフェストと同じ（書き換えられていない）",
                    ),
                    Expect(
                        "ExpectColumnSumToBeBetween",
                        "ファイルの行数の合計 = 照会要求の件数",
                        {
                            "column": "ファイルの行数",
                            "min_value": request_rows,
                            "max_value": request_rows,
                        },
                    ),
                ),
            ),
        ),
    )


def inquiry_result_suite(results: Frame, requests: Frame) -> Suite:
    """照会結果 (F3): one answer per request."""
    names = ("照会要求にある", "照会結果にある")
    same = "個人番号が送ったものと同じ"
    # one join of the two sides, each with its 個人番号, reduced to the few combinations of
    # (on the request side, on the result side, same number): both batches are sums of it
    # (three joins of 7.5M 照会番号, made twice, took 9 s at 10M rows)
    joined = (
        requests.lazy()
        .select("inquiry_no", pl.col("my_number").alias("_sent"), pl.lit(True).alias(names[0]))
        .join(
            results.lazy().select("inquiry_no", "my_number", pl.lit(True).alias(names[1])),
            on="inquiry_no",
            how="full",
            coalesce=True,
        )
        .with_columns(pl.col(names[0]).fill_null(False), pl.col(names[1]).fill_null(False))
    )
    combos = _counts(
        joined,
        **{
            names[0]: pl.col(names[0]),
            names[1]: pl.col(names[1]),
            same: pl.col("my_number") == pl.col("_sent"),
        },
    )

    def summed(*keys: str) -> pl.DataFrame:
        return combos.group_by(keys).agg(pl.col(COUNT).sum()).sort(keys, nulls_last=True)

    same_number = summed(same)
    request_rows, counted = pl.collect_all(
        [
            requests.lazy().select(pl.len()),
            results.lazy().select(pl.len().alias("n"), pl.col("inquiry_no").n_unique().alias("unique")),
        ]
    )
    result_rows = int(counted["n"].item())
    facts = _one_row(
        照会要求件数=int(request_rows.item()),
        照会結果件数=result_rows,
        照会番号の種類数=int(counted["unique"].item()),
    )
    return Suite(
        "照会結果",
        (
            Batch(
                "件数と照会番号",
                facts,
                (
                    _equal("照会要求件数", "照会結果件数", "照会結果の件数 = 照会要求の件数"),
                    _equal("照会結果件数", "照会番号の種類数", "照会番号ごとに結果は1件"),
                ),
            ),
            Batch(
                "処理結果ごとの件数",
                _counts(results, 処理結果=pl.col("result_code")),
                (
                    _not_null("処理結果", "すべての結果に処理結果がある"),
                    _in_set(
                        "処理結果", [c.value for c in ResultCode], "処理結果は 00・10・20・90 のいずれか"
                    ),
                    _covers(result_rows, "照会結果をすべて数えている"),
                ),
            ),
            _orphan_batch(
                summed(*names),
                int(combos[COUNT].sum()),
                names,
                ("送っていない照会番号の結果がない", "送った照会番号の結果がすべて返っている"),
            ),
            Batch(
                "返ってきた個人番号",
                same_number,
                (_in_set("個人番号が送ったものと同じ", [True], "返ってきた個人番号は送ったものと同じ"),),
            ),
        ),
    )


def match_result_suite(matches: Frame, extract: Frame, requests: Frame, f4_rows: int | None) -> Suite:
    """照合 (F4): one judgement per 点検対象."""
    judgements = [c for c in matches.lazy().collect_schema().names() if c.startswith("judgement_")]
    # counted column by column and stacked: unpivoting made a row per record and field first
    # (45M rows at 10M records; 0.91 → 0.42 s)
    per_field = pl.concat(
        pl.collect_all(
            [
                matches.lazy()
                .group_by(pl.col(c).alias("判定結果"))
                .agg(pl.len().cast(pl.Int64).alias(COUNT))
                .select(pl.lit(c.removeprefix("judgement_")).alias("項目"), "判定結果", COUNT)
                for c in judgements
            ]
        )
    ).sort("項目", "判定結果", nulls_last=True)
    in_scope_rows, counted = pl.collect_all(
        [
            _in_scope(extract).select(pl.len()),
            matches.lazy().select(pl.len().alias("n"), pl.col("inquiry_no").n_unique().alias("unique")),
        ]
    )
    match_rows = int(counted["n"].item())
    facts = _one_row(
        点検対象件数=int(in_scope_rows.item()),
        照合件数=match_rows,
        照会番号の種類数=int(counted["unique"].item()),
        照合結果ファイルの行数=f4_rows,
    )
    allowed_pairs = [[ResultCode.FOUND.value, g.value] for g in Grade] + [
        [c.value, Grade.C.value] for c in ResultCode if c is not ResultCode.FOUND
    ]
    names = ("照会要求にある", "照合結果にある")
    return Suite(
        "照合",
        (
            Batch(
                "件数と照会番号",
                facts,
                (
                    _equal(
                        "点検対象件数",
                        "照合件数",
                        "照合結果の件数 = 抽出の点検対象件数（A + B + C = 点検対象）",
                    ),
                    _equal("照合件数", "照会番号の種類数", "照会番号ごとに照合結果は1件"),
                    _not_null("照合結果ファイルの行数", "照合結果.csv（F4）が書かれている"),
                    _equal("照合件数", "照合結果ファイルの行数", "照合結果.csv の行数 = 照合結果の件数"),
                ),
            ),
            Batch(
                "処理結果と判定の組み合わせごとの件数",
                _counts(matches, 処理結果=pl.col("result_code"), 判定=pl.col("grade")),
                (
                    _not_null("判定", "すべての行に判定がある"),
                    _in_set("判定", [g.value for g in Grade], "判定は A・B・C のいずれか"),
                    Expect(
                        "ExpectColumnPairValuesToBeInSet",
                        "処理結果が 00 でなければ判定は C（マニュアル7.(6) 規則1）",
                        {"column_A": "処理結果", "column_B": "判定", "value_pairs_set": allowed_pairs},
                    ),
                    _covers(match_rows, "照合結果をすべて数えている"),
                ),
            ),
            Batch(
                "項目ごとの判定の件数",
                per_field,
                (
                    _not_null("判定結果", "すべての項目に判定がある"),
                    _in_set(
                        "判定結果",
                        [j.value for j in Judgement],
                        "項目の判定は 一致・表記ゆれ一致・不一致・比較不能 のいずれか",
                    ),
                    _covers(match_rows * len(judgements), "全行の全項目を数えている"),
                ),
            ),
            _orphans(
                _join_flags(requests, matches, "inquiry_no", names),
                names,
                ("照会要求にない照会番号の照合結果がない", "すべての照会要求に照合結果がある"),
            ),
        ),
    )


def csv_rows(path: Path) -> int | None:
    """Data rows of a CSV with a header tenken wrote (no embedded newlines), None if absent."""
    if not path.is_file():
        return None
    return max(path.read_bytes().count(b"\n") - 1, 0)


#: what a browser would fetch by itself: stylesheets, scripts, images, CSS backgrounds
_REMOTE = re.compile(
    r"""<link[^>]*href=["']https?://[^>]*>"""
    r"""|<script[^>]*src=["']https?://[^>]*>\s*</script>"""
    r"""|<img[^>]*src=["']https?://[^>]*>""",
    re.IGNORECASE,
)
_REMOTE_CSS = re.compile(r"""url\(\s*['"]?https?://[^)]*\)""", re.IGNORECASE)


#: a link out of the site (GX's vendor, newsletter and community links): dropped, text and all
_EXTERNAL_LINK = re.compile(r"""<a\b[^>]*href=["']https?://[^>]*>.*?</a>""", re.IGNORECASE | re.DOTALL)
#: GX's "Home" links point at its own index.html, which tenken does not build (it would delete
#: the pages of earlier runs): they are pointed at 証跡一覧.html
_HOME_LINK = re.compile(r"""href=["'](?:\.\./)*index\.html(?:#[^"']*)?["']""", re.IGNORECASE)
#: the stylesheet of every evidence page (GX's own comes from a CDN, which an isolated
#: terminal cannot reach)
STYLE = (
    "<style>body{font-family:'Noto Sans CJK JP','IPAexGothic',sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .6em;"
    "text-align:left;vertical-align:top}th{background:#eef}.ok{color:#0a6b2d}.ng{color:#b00020;"
    "font-weight:bold}a{color:#0645ad}nav{margin-bottom:1em}</style>"
)


#: a link or source within the site (not an anchor on the same page, not a scheme)
_LOCAL_REF = re.compile(r"""(href|src)=(["'])((?:\.\./)+[^"'#]*)([^"']*)\2""")


def _local_ref(found: re.Match[str], page: Path, docs_dir: Path) -> str:
    """GX's static files (stylesheets, fonts, images) are at the site's top, one level higher
    than its nested pages point; a link to a page this site does not hold is made plain text."""
    attr, quote, target, anchor = found.groups()
    if "static/" in target:
        fixed = docs_dir / "static" / target.split("static/", 1)[1]
        target = os.path.relpath(fixed, page.parent).replace(os.sep, "/")
    elif not (page.parent / target).exists():
        return 'data-missing=""'
    return f"{attr}={quote}{target}{anchor}{quote}"


def make_offline(page: Path, docs_dir: Path | None = None) -> None:
    """Make a GX page whole offline: nothing fetched from CDNs, no links out of the site, its
    "Home" links to 証跡一覧.html, and tenken's stylesheet in place of the CDN's."""
    html = page.read_text(encoding="utf-8")
    html = _REMOTE_CSS.sub("none", _REMOTE.sub("", html))
    html = _EXTERNAL_LINK.sub("", html)
    if docs_dir is not None:
        home = os.path.relpath(docs_dir / INDEX_FILE, page.parent).replace(os.sep, "/")
        html = _HOME_LINK.sub(f'href="{escape(home)}"', html)
        html = _LOCAL_REF.sub(lambda m: _local_ref(m, page, docs_dir), html)
    if STYLE not in html:
        html = html.replace("</head>", STYLE + "</head>", 1) if "</head>" in html else STYLE + html
    page.write_text(html, encoding="utf-8")


class _Worker:
    """Great Expectations in a child process, imported there while the stages run.

    Importing GX takes ≈5 s, in every process: for a CLI run that would be 5 s of each phase
    spent waiting. ``prewarm`` starts the child as a phase starts; by the time the first
    evidence check runs, GX is loaded there. The suites it gets are the small aggregated
    frames of this module (no 個人番号, names or addresses), so nothing personal crosses.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), name="tenken-evidence", daemon=True)
        self.process.start()
        child.close()

    def alive(self) -> bool:
        return self.process.is_alive()

    def run(self, suite: Suite, docs_dir: Path, run_name: str) -> EvidenceOutcome | None:
        """The outcome, or None when the child is gone (the caller then validates itself)."""
        try:
            self.conn.send((suite, docs_dir, run_name))
            status, value = self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            return None
        if status != "ok":
            raise RuntimeError(f"証跡（Great Expectations）の作成に失敗しました: {value}")
        return value

    def stop(self) -> None:
        # every suite's pages are written before its answer: nothing is left to wait for. Asked
        # to stop, the child exits by itself and releases its semaphores (a terminated child
        # left one behind: "resource_tracker: … leaked semaphore objects" at every exit)
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(None)
        self.process.join(timeout=3)  # still importing GX: nothing of its own to release yet
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.conn.close()


def _serve(conn: Connection) -> None:
    """The child: import GX at once, then validate every suite sent until told to stop."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # importing GX costs seconds of CPU while the phase's stages run: on the cores they
    # leave idle, not taken from them (the first check waits for the rest, if any)
    run_in_background()
    import great_expectations  # noqa: F401 - the point of this process: import it ahead

    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            # every answer is sent and every page written: leave without tearing down the
            # thousands of objects Great Expectations loaded (the parent waited 0.9 s for it)
            conn.close()
            # what a normal exit runs first: the semaphores are released (no "leaked" warning)
            multiprocessing.util._run_finalizers()  # type: ignore[attr-defined]
            os._exit(0)
        try:
            conn.send(("ok", _validate_here(*job)))
        except Exception as e:  # the frames hold no personal data; the text is safe to pass on
            conn.send(("error", f"{type(e).__name__}: {e}"))


_worker: _Worker | None = None


def prewarm() -> None:
    """Start loading Great Expectations in a child process for the evidence checks to come.

    For processes that run a phase (the CLI); without it ``validate`` imports GX itself.
    """
    global _worker
    if _worker is None or not _worker.alive():
        _worker = _Worker()


def shutdown() -> None:
    """Stop the child of ``prewarm`` (if any)."""
    global _worker
    worker, _worker = _worker, None
    if worker is not None:
        worker.stop()


atexit.register(shutdown)


def validate(suite: Suite, docs_dir: Path, run_name: str) -> EvidenceOutcome:
    """Run ``suite`` with Great Expectations and write its Data Docs under ``docs_dir``.

    In the child of ``prewarm`` when there is one, else in this process.
    """
    started = time.perf_counter()
    outcome = _worker.run(suite, docs_dir, run_name) if _worker is not None else None
    if outcome is None:
        outcome = _validate_here(suite, docs_dir, run_name)
    return dataclasses.replace(outcome, seconds=time.perf_counter() - started)


def _validate_here(suite: Suite, docs_dir: Path, run_name: str) -> EvidenceOutcome:
    started = time.perf_counter()
    # GX 1.24 has no analytics left; this is the documented switch for releases that had it
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier

    # in memory, with one docs site: ours (the default one would be a new temporary folder)
    site = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={"tenken": site},
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    source = context.data_sources.add_pandas("tenken")
    run_id = RunIdentifier(run_name=run_name)
    evaluated = 0
    unmet: list[Unmet] = []
    checked: list[Checked] = []
    suite_names = []
    for batch in suite.batches:
        name = f"{suite.name}・{batch.name}"
        suite_names.append(name)
        definition = source.add_dataframe_asset(batch.name).add_batch_definition_whole_dataframe("全体")
        expectations = [
            getattr(gx.expectations, e.kind)(**e.args, description=e.meaning) for e in batch.expectations
        ]
        gx_suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=definition, suite=gx_suite)
        )
        result = validation.run(
            batch_parameters={"dataframe": batch.frame.to_pandas()}, run_id=run_id, result_format="SUMMARY"
        )
        # GX reports results in its own order; each carries the meaning it was given
        evaluated += len(result.results)
        checked += _checked(batch, result.results)
        unmet += [
            Unmet(
                batch.name,
                str(r.expectation_config.description if r.expectation_config else ""),
                _observed(r.result),
            )
            for r in result.results
            if not r.success
        ]
    # only this run's pages, and not GX's index: its build deletes every page of the site
    # that this (ephemeral) context did not produce, i.e. the evidence of all earlier runs
    results = context.validation_results_store.list_keys()
    this_run = [k for k in results if isinstance(k, ValidationResultIdentifier)]
    context.build_data_docs(resource_identifiers=this_run, build_index=False)
    pages = tuple(
        sorted(p for n in suite_names for p in (docs_dir / "validations" / n / run_name).glob("*/*.html"))
    )
    for page in (*pages, *(docs_dir / "expectations").glob("*.html")):
        make_offline(page, docs_dir)
    validated_at = clock.now().astimezone(clock.JST).isoformat(timespec="seconds")
    _record(docs_dir, suite.name, run_name, pages, checked, validated_at)
    return EvidenceOutcome(
        success=not unmet,
        evaluated=evaluated,
        unmet=tuple(unmet),
        checked=tuple(checked),
        validated_at=validated_at,
        pages=pages,
        index=write_index(docs_dir),
        seconds=time.perf_counter() - started,
    )


def _checked(batch: Batch, results: Sequence[Any]) -> list[Checked]:
    """Every expectation's result, in the order the suite declares them (GX has its own)."""
    order = {e.meaning: i for i, e in enumerate(batch.expectations)}
    found = [
        Checked(
            batch.name,
            str(r.expectation_config.description if r.expectation_config else ""),
            bool(r.success),
            _observed(r.result),
        )
        for r in results
    ]
    return sorted(found, key=lambda c: order.get(c.meaning, len(order)))


#: beside the index: one entry per suite and run (what the index lists), newest last
RECORD_FILE = "証跡一覧.json"


def _record(
    docs_dir: Path, suite: str, run: str, pages: Sequence[Path], checked: Sequence[Checked], at: str
) -> None:
    path = docs_dir / RECORD_FILE
    entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    by_batch = {p.parts[-4]: p.relative_to(docs_dir).as_posix() for p in pages}
    for batch in dict.fromkeys(c.batch for c in checked):
        mine = [c for c in checked if c.batch == batch]
        entries.append(
            {
                "段階": suite,
                "対象": batch,
                "実行": run,
                "検証時刻": at,
                "結果": "合格" if all(c.passed for c in mine) else "不合格",
                "期待の数": len(mine),
                "満たさない期待": sum(not c.passed for c in mine),
                "ページ": by_batch.get(f"{suite}・{batch}", ""),
            }
        )
    path.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")


def write_index(docs_dir: Path) -> Path:
    """証跡一覧.html: every suite of every run, newest first, with its result and time (JST);
    each row links its Data Docs page (readable offline, no links out)."""
    path = docs_dir / RECORD_FILE
    entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    rows = "\n".join(
        f"<tr><td>{escape(e['検証時刻'])}</td><td>{escape(e['段階'])}</td><td>{escape(e['対象'])}</td>"
        f'<td class="{"ok" if e["結果"] == "合格" else "ng"}">{escape(e["結果"])}</td>'
        f"<td>{e['期待の数']}</td><td>{e['満たさない期待']}</td><td>{escape(e['実行'][:8])}</td>"
        f'<td><a href="{escape(e["ページ"])}">開く</a></td></tr>'
        for e in sorted(entries, key=lambda e: e["検証時刻"], reverse=True)
    )
    index = docs_dir / INDEX_FILE
    index.write_text(
        f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>証跡一覧</title>{STYLE}</head>'
        "<body><h1>証跡一覧（Great Expectations Data Docs）</h1>"
        "<p>時刻は日本時間。各行のページに、期待ごとの結果と観測値（件数のみ）があります。</p>"
        "<table><tr><th>検証時刻</th><th>段階</th><th>対象</th><th>結果</th><th>期待の数</th>"
        f"<th>満たさない期待</th><th>実行ID</th><th>ページ</th></tr>\n{rows}\n</table></body></html>\n",
        encoding="utf-8",
    )
    return index


def _observed(result: Mapping[str, Any]) -> str:
    if "observed_value" in result:
        return str(result["observed_value"])
    if "unexpected_count" in result:
        examples = ", ".join(str(v) for v in result.get("partial_unexpected_list", [])[:5])
        return f"該当しない行 {result['unexpected_count']} 件（例: {examples}）"
    return json.dumps(result, ensure_ascii=False, default=str)[:200]
