"""証跡: the Great Expectations suites hold on consistent stages, and each breaks as it should.

The stage frames here are small and consistent by construction; every case breaks one thing
an auditor relies on and names the expectation (its Japanese meaning) that must catch it.
The Data Docs are real files: they must exist, hold no 個人番号 and fetch nothing remote.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.ops import evidence
from pipelines.stages.inquiry_request import assign_inquiry_numbers, build_requests, write_request_files
from tests.leaks import leaked

TODAY = date(2026, 11, 23)
N = 12
NUMBERS = [with_cd(f"{40000000000 + i * 7919:011d}") for i in range(N)]


@dataclass
class Stages:
    extract: pl.DataFrame
    requests: pl.DataFrame
    results: pl.DataFrame
    matches: pl.DataFrame
    f2_dir: Path


@pytest.fixture()
def stages(tmp_path: Path) -> Stages:
    extract = pl.DataFrame(
        {
            "round_id": "2026",
            "extract_id": "e" * 16,
            "atena_no": [f"A{i:03d}" for i in range(N)],
            "my_number": NUMBERS,
            "birth_date": [date(1950 + i, 1, 1) for i in range(N)],
            "sex": ["1", "2"] * (N // 2),
            "scope": ["点検対象"] * (N - 2) + ["対象外"] * 2,
        }
    )
    requests = build_requests(extract, assign_inquiry_numbers(extract["atena_no"], None))
    requests, _ = write_request_files(
        requests, tmp_path / "f2", agency="392014", agency_name="", jimu="kaigo_hoken", jimu_name="",
        round_id="2026", max_records_per_file=4, now=datetime(2026, 11, 23),
    )  # fmt: skip
    codes = ["00"] * (requests.height - 1) + ["20"]
    results = requests.select("inquiry_no", "my_number", pl.Series("result_code", codes))
    matches = results.with_columns(
        pl.Series("grade", ["A"] * (requests.height - 2) + ["B", "C"]),
        *[pl.lit("一致").alias(f"judgement_{f}") for f in ("name", "kana", "birth_date", "sex")],
    )
    return Stages(extract, requests, results, matches, tmp_path / "f2")


def suites(s: Stages) -> dict[str, Callable[[], evidence.Suite]]:
    return {
        "抽出": lambda: evidence.extract_suite(s.extract, TODAY),
        "住基照会要求": lambda: evidence.inquiry_request_suite(
            s.requests, s.extract, evidence.request_files(s.f2_dir)
        ),
        "照会結果": lambda: evidence.inquiry_result_suite(s.results, s.requests),
        "照合": lambda: evidence.match_result_suite(s.matches, s.extract, s.requests, s.matches.height),
    }


def test_consistent_stages_meet_every_expectation(stages: Stages, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for name, build in suites(stages).items():
        outcome = evidence.validate(build(), docs, "run-1")
        assert outcome.success, (name, outcome.unmet)
        assert outcome.evaluated >= 5
        assert outcome.pages and all(p.is_file() for p in outcome.pages)
    index = (docs / evidence.INDEX_FILE).read_text(encoding="utf-8")
    assert index.count("開く</a>") == len(list(docs.glob("validations/*/*/*/*.html"))) >= 12


def _tamper_f2(s: Stages) -> None:
    first = sorted(s.f2_dir.glob("request_*.csv"))[0]
    first.write_bytes(first.read_bytes().replace(b"0000000001,", b"0000000009,"))


BREAKAGES: list[tuple[str, str, Callable[[Stages], None], str]] = [
    # (id, suite, what breaks, the expectation that must catch it)
    ("scope missing", "抽出", lambda s: setattr(s, "extract", s.extract.with_columns(pl.when(pl.col("atena_no") == "A000").then(None).otherwise(pl.col("scope")).alias("scope"))), "すべての行に区分がある"),
    ("unknown scope", "抽出", lambda s: setattr(s, "extract", s.extract.with_columns(pl.lit("保留").alias("scope"))), "区分は 点検対象・対象外・要修正 のいずれか"),
    ("bad check digit", "抽出", lambda s: setattr(s, "extract", s.extract.with_columns(pl.col("my_number").str.replace(r"\d$", "X"))), "点検対象の個人番号はすべて検査数字が正しい"),
    ("future birth", "抽出", lambda s: setattr(s, "extract", s.extract.with_columns(pl.lit(date(2030, 1, 1)).alias("birth_date"))), "生年月日は今日以前"),
    ("duplicate atena", "抽出", lambda s: setattr(s, "extract", s.extract.with_columns(pl.lit("A001").alias("atena_no"))), "宛名番号が重複していない（点検対象・対象外）"),
    ("sex code", "抽出", lambda s: setattr(s, "extract", s.extract.with_columns(pl.lit("9").alias("sex"))), "性別は 1 か 2（持たない事務は空欄）"),
    ("request dropped", "住基照会要求", lambda s: setattr(s, "requests", s.requests.slice(1)), "照会要求のない点検対象がない"),
    ("request count", "住基照会要求", lambda s: setattr(s, "requests", s.requests.slice(1)), "照会要求の件数 = 抽出の点検対象件数"),
    ("request for 対象外", "住基照会要求", lambda s: setattr(s, "extract", s.extract.with_columns(pl.when(pl.col("atena_no") == "A000").then(pl.lit("対象外")).otherwise(pl.col("scope")).alias("scope"))), "点検対象でない照会要求がない"),
    ("duplicate 照会番号", "住基照会要求", lambda s: setattr(s, "requests", s.requests.with_columns(pl.lit("0000000001").alias("inquiry_no"))), "照会番号が重複していない"),
    ("F2 tampered", "住基照会要求", _tamper_f2, "各ファイルの SHA-256 がマニフェストと同じ（書き換えられていない）"),
    ("result missing", "照会結果", lambda s: setattr(s, "results", s.results.slice(1)), "送った照会番号の結果がすべて返っている"),
    ("orphan result", "照会結果", lambda s: setattr(s, "results", s.results.with_columns(pl.when(pl.col("inquiry_no") == "0000000001").then(pl.lit("0000000099")).otherwise(pl.col("inquiry_no")).alias("inquiry_no"))), "送っていない照会番号の結果がない"),
    ("number differs", "照会結果", lambda s: setattr(s, "results", s.results.with_columns(pl.col("my_number").shift(1, fill_value=NUMBERS[-1]))), "返ってきた個人番号は送ったものと同じ"),
    ("result code", "照会結果", lambda s: setattr(s, "results", s.results.with_columns(pl.lit("55").alias("result_code"))), "処理結果は 00・10・20・90 のいずれか"),
    ("grade D", "照合", lambda s: setattr(s, "matches", s.matches.with_columns(pl.lit("D").alias("grade"))), "判定は A・B・C のいずれか"),
    ("deleted person graded A", "照合", lambda s: setattr(s, "matches", s.matches.with_columns(pl.lit("A").alias("grade"))), "処理結果が 00 でなければ判定は C（マニュアル7.(6) 規則1）"),
    ("judgement label", "照合", lambda s: setattr(s, "matches", s.matches.with_columns(pl.lit("ほぼ一致").alias("judgement_kana"))), "項目の判定は 一致・表記ゆれ一致・不一致・比較不能 のいずれか"),
    ("row lost", "照合", lambda s: setattr(s, "matches", s.matches.slice(1)), "照合結果の件数 = 抽出の点検対象件数（A + B + C = 点検対象）"),
    ("orphan match", "照合", lambda s: setattr(s, "requests", s.requests.slice(1)), "照会要求にない照会番号の照合結果がない"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("suite", "breakage", "meaning"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES]
)
def test_each_breakage_is_caught_by_its_expectation(
    stages: Stages, tmp_path: Path, suite: str, breakage: Callable[[Stages], None], meaning: str
) -> None:
    breakage(stages)
    outcome = evidence.validate(suites(stages)[suite](), tmp_path / "docs", "run-broken")
    assert not outcome.success
    assert meaning in {u.meaning for u in outcome.unmet}


def test_f4_file_short_of_rows_is_caught(stages: Stages, tmp_path: Path) -> None:
    suite = evidence.match_result_suite(
        stages.matches, stages.extract, stages.requests, stages.matches.height - 1
    )
    outcome = evidence.validate(suite, tmp_path / "docs", "run-f4")
    assert {u.meaning for u in outcome.unmet} == {"照合結果.csv の行数 = 照合結果の件数"}


def test_data_docs_hold_no_my_number_and_fetch_nothing_remote(stages: Stages, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    stages.results = stages.results.with_columns(pl.col("my_number").shift(1, fill_value=NUMBERS[-1]))
    for build in suites(stages).values():
        evidence.validate(build(), docs, "run-docs")
    assert leaked(NUMBERS, paths=[docs]) == []
    fetches = re.compile(
        r"<(?:link|script|img)[^>]*(?:href|src)=[\"']https?://|url\(\s*[\"']?https?://", re.I
    )
    pages = [
        *docs.glob("validations/**/*.html"),
        *docs.glob("expectations/*.html"),
        docs / evidence.INDEX_FILE,
    ]
    assert pages
    assert [p.name for p in pages if fetches.search(p.read_text(encoding="utf-8"))] == []


def test_validation_never_touches_the_network(
    stages: Stages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence.validate(
        suites(stages)["抽出"](), tmp_path / "warm", "warm-up"
    )  # the import itself: see test_offline

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access during evidence")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for build in suites(stages).values():
        assert evidence.validate(build(), tmp_path / "docs", "offline").success
