"""Rounds told apart by their 照会番号 (issue 11, class 7): last year's results given for this
year are refused naming both rounds; this round's own results always pass.

照会番号 = the round's tag (3 digits) + a sequence (7 digits). The tags of one agency × 事務
never repeat; a round keeps its tag and its numbers when it is run again; registries from
before tags keep their numbers (tag 000).
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.errors import TenkenInputError
from pipelines.home import HomeLayout
from pipelines.privacy import write_private_parquet
from pipelines.stages.inquiry_request import (
    LEGACY_TAG,
    assign_inquiry_numbers,
    build_requests,
    choose_round_tag,
    open_registry,
    preferred_round_tag,
    registry_tag,
    round_tags,
    save_registry,
)
from pipelines.stages.inquiry_result import read_results
from schemas.config import parse_settings

AGENCY, JIMU = "392014", "kaigo_hoken"
ATENA = ["A1", "A2", "A3"]
NUMBERS = [with_cd(f"{i:011d}") for i in (271, 314, 577)]
F3_HEADER = "照会番号,個人番号,処理結果,氏名,氏名カナ,生年月日,性別,住所,異動事由,異動年月日"


@pytest.mark.parametrize(
    ("round_id", "tag"),
    [
        ("2026", "026"),  # a 年度 round reads as its year
        ("2025", "025"),
        ("2999", "999"),
        ("2000", preferred_round_tag("2000")),  # would be 000 (the legacy tag): hashed instead
        ("2026-05", preferred_round_tag("2026-05")),  # monthly plans: a tag from the id
    ],
)
def test_preferred_tags(round_id: str, tag: str) -> None:
    assert preferred_round_tag(round_id) == tag
    assert tag != LEGACY_TAG and len(tag) == 3 and tag.isdigit()


def test_monthly_rounds_of_one_year_get_twelve_different_tags() -> None:
    taken: dict[str, list[str]] = {}
    for month in range(1, 13):
        round_id = f"2026-{month:02d}"
        taken.setdefault(choose_round_tag(round_id, taken), []).append(round_id)
    assert len(taken) == 12 and all(len(r) == 1 for r in taken.values())


def test_a_tag_held_by_another_round_goes_to_the_next_free_one() -> None:
    assert choose_round_tag("2026", {"026": ["2026-05"]}) == "027"
    assert choose_round_tag("2026", {"026": ["2026-05"], "027": ["x"]}) == "028"
    assert choose_round_tag("2999", {"999": ["y"]}) == "001"  # wraps, never 000
    assert choose_round_tag("2026", {"026": ["2026"]}) == "026"  # its own tag is not taken


def test_when_every_tag_is_taken_the_round_is_refused() -> None:
    full = {f"{t:03d}": [f"r{t}"] for t in range(1, 1000)}
    with pytest.raises(TenkenInputError) as e:
        choose_round_tag("2026", full)
    assert e.value.codes == {"ROUND_TAGS_EXHAUSTED"}


def test_any_rounds_of_one_partition_get_distinct_tags(tmp_path: Path) -> None:
    """Rounds created one after another in a home (random ids, so hashed tags collide)."""
    rng = random.Random(11)
    layout = HomeLayout(tmp_path)
    ids = {"2025", "2026", *(f"r{rng.randrange(10**6)}" for _ in range(60))}
    for round_id in sorted(ids):
        path = layout.inquiry_registry(AGENCY, JIMU, round_id)
        save_registry(path, open_registry(path, round_id).extended(pl.Series(ATENA)))
    tags = round_tags(layout.inquiry_registry(AGENCY, JIMU, "2026"))
    assert sorted(r for rounds in tags.values() for r in rounds) == sorted(ids)
    assert all(len(rounds) == 1 for rounds in tags.values())
    assert LEGACY_TAG not in tags


def test_a_round_run_again_keeps_its_tag_and_numbers(tmp_path: Path) -> None:
    layout = HomeLayout(tmp_path)
    path = layout.inquiry_registry(AGENCY, JIMU, "2026")
    first = open_registry(path, "2026").extended(pl.Series(["B", "A"]))
    save_registry(path, first)
    assert dict(first.numbers.iter_rows()) == {"A": "0260000001", "B": "0260000002"}
    # another round arrives meanwhile and wants 026 too: 2026 keeps it
    other = layout.inquiry_registry(AGENCY, JIMU, "2026-x")
    save_registry(other, open_registry(other, "2026-x").extended(pl.Series(["A"])))
    again = open_registry(path, "2026").extended(pl.Series(["C", "A", "B"]))
    assert dict(again.numbers.iter_rows()) == {"A": "0260000001", "B": "0260000002", "C": "0260000003"}
    assert registry_tag(path) == "026"


def test_a_registry_from_before_tags_keeps_its_numbers(tmp_path: Path) -> None:
    layout = HomeLayout(tmp_path)
    path = layout.inquiry_registry(AGENCY, JIMU, "2025")
    write_private_parquet(path, assign_inquiry_numbers(pl.Series(["A", "B"]), None))  # as before tags
    old = open_registry(path, "2025")
    assert old.tag == LEGACY_TAG
    grown = old.extended(pl.Series(["A", "B", "C"]))
    assert dict(grown.numbers.iter_rows()) == {"A": "0000000001", "B": "0000000002", "C": "0000000003"}
    # a new round beside it gets a real tag
    new = layout.inquiry_registry(AGENCY, JIMU, "2026")
    assert open_registry(new, "2026").tag == "026"
    assert round_tags(new) == {LEGACY_TAG: ["2025"]}


# --- F3 of another round ------------------------------------------------------------------


def requests_of(round_id: str, tag: str) -> pl.DataFrame:
    extract = pl.DataFrame(
        {
            "round_id": round_id,
            "extract_id": "x" * 16,
            "atena_no": ATENA,
            "my_number": NUMBERS,
            "scope": ["点検対象"] * 3,
        }
    )
    return build_requests(extract, assign_inquiry_numbers(extract["atena_no"], None, tag=tag))


def f3(tmp_path: Path, name: str, requests: pl.DataFrame) -> Path:
    rows = [
        f"{n},{m},00,山田　太郎,ヤマダ　タロウ,19701204,1,高知県高知市本町一丁目1番1号,,"
        for n, m in requests.select("inquiry_no", "my_number").iter_rows()
    ]
    path = tmp_path / name
    path.write_bytes(("\r\n".join([F3_HEADER, *rows]) + "\r\n").encode("cp932"))
    return path


ROUNDS = {"025": ["2025"], "026": ["2026"], LEGACY_TAG: ["2024"], "088": ["2026-05"], "128": ["2026-04"]}
NO_LEGACY = {k: v for k, v in ROUNDS.items() if k != LEGACY_TAG}

# (case, this round and tag, the F3 files' rounds and tags, the round the message must name)
REFUSED = [
    ("last year's results for this year", ("2026", "026"), [("2025", "025")], "点検回 2025"),
    ("results from before tags for a tagged round", ("2026", "026"), [("2024", LEGACY_TAG)], "点検回 2024"),
    ("next year's results for this year", ("2025", "025"), [("2026", "026")], "点検回 2026"),
    ("last month's results, monthly plan", ("2026-05", "088"), [("2026-04", "128")], "点検回 2026-04"),
    (
        "one file of this round, one of last year",
        ("2026", "026"),
        [("2026", "026"), ("2025", "025")],
        "点検回 2025",
    ),
    (
        "a round this home never saw",
        ("2026", "026"),
        [("2019", "019")],
        "記録のない点検回（年度の点検回なら 2019）",
    ),
    (
        "a pre-tag round this home never saw",
        ("2026", "026"),
        [("2023", LEGACY_TAG)],
        "点検回の記号がなかった版",
    ),
]


@pytest.mark.parametrize(("case", "this", "given", "named"), REFUSED, ids=[c[0] for c in REFUSED])
def test_results_of_another_round_are_refused_naming_both_rounds(
    tmp_path: Path, case: str, this: tuple[str, str], given: list[tuple[str, str]], named: str
) -> None:
    sent = requests_of(*this)
    files = [f3(tmp_path, f"r{i}.csv", requests_of(*g)) for i, g in enumerate(given)]
    with pytest.raises(TenkenInputError) as e:
        read_results(
            files, sent, parse_settings(None), rounds_by_tag=NO_LEGACY if "never saw" in case else ROUNDS
        )
    other = [p for p in e.value.problems if p.code == "RESULT_OTHER_ROUND"]
    assert len(other) == 1, case  # one problem per file and round, not one per row
    problem = other[0]
    assert problem.file == files[-1].name and problem.line == 2 and problem.column == "照会番号"
    assert named in (problem.detail or "") and f"点検回 {this[0]}" in (problem.detail or "")
    assert "INQUIRY_NO_UNKNOWN" not in e.value.codes  # the rows are explained, not "unknown"
    for n in NUMBERS:
        assert n not in str(e.value)


PASSED = [
    ("this round's results", ("2026", "026"), [("2026", "026")]),
    ("a round from before tags, its own results", ("2025", LEGACY_TAG), [("2025", LEGACY_TAG)]),
    ("monthly round, its own results", ("2026-05", "088"), [("2026-05", "088")]),
]


@pytest.mark.parametrize(("case", "this", "given"), PASSED, ids=[c[0] for c in PASSED])
def test_results_of_the_same_round_pass(
    tmp_path: Path, case: str, this: tuple[str, str], given: list[tuple[str, str]]
) -> None:
    files = [f3(tmp_path, f"r{i}.csv", requests_of(*g)) for i, g in enumerate(given)]
    results, stats = read_results(files, requests_of(*this), parse_settings(None), rounds_by_tag=ROUNDS)
    assert results["atena_no"].to_list() == ATENA and stats.rows == 3, case
