"""The CLI round trip on generated data, scored against its ground truth.

Runs the real ``python -m tenken`` in subprocesses against a fresh tenken home, answers F2
with the 住基ネット simulator, and checks F4 against the generator's expected labels.
"""

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from demo.generator import generate
from demo.simulator import answer_files
from schemas.match_result import F4_COLUMNS
from tests.leaks import instance_storage, leaked

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def tenken(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tenken", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    home = tmp / "home"
    data = generate(3000, agency="392014", jimu="kaigo_hoken", seed=7)
    f1 = data.write_extract(tmp / "点検用元ファイル.csv")
    out1, out2 = tmp / "to_juki", tmp / "results"
    req = tenken(
        "request",
        "--home",
        str(home),
        "--agency",
        "392014",
        "--jimu",
        "kaigo_hoken",
        "--extract",
        str(f1),
        "--round",
        "2026",
        "--out",
        str(out1),
    )
    f3 = answer_files(sorted(out1.glob("request_*.csv")), data.registry, tmp / "f3")
    mat = tenken(
        "match",
        "--home",
        str(home),
        "--agency",
        "392014",
        "--jimu",
        "kaigo_hoken",
        "--result",
        str(f3[0].parent),
        "--out",
        str(out2),
    )
    return {"data": data, "home": home, "out1": out1, "out2": out2, "req": req, "mat": mat, "tmp": tmp}


def test_commands_succeed_and_say_where_files_are(round_trip) -> None:
    req, mat = round_trip["req"], round_trip["mat"]
    assert req.returncode == 0, req.stderr
    assert mat.returncode == 0, mat.stderr
    assert "照会要求" in req.stdout and "manifest.json" in req.stdout
    assert "照合 A" in mat.stdout
    assert (round_trip["out1"] / "manifest.json").exists()
    assert (round_trip["out2"] / "確認作業リスト.xlsx").exists()


def test_f4_scores_against_ground_truth(round_trip) -> None:
    truth = round_trip["data"].truth
    f4 = pl.read_csv(round_trip["out2"] / "照合結果.csv", encoding="cp932", infer_schema=False)
    assert f4.columns == [c for c, _ in F4_COLUMNS]
    in_scope = truth.filter(pl.col("in_scope"))
    # every in-scope row appears exactly once, and nothing else does
    assert f4["宛名番号"].is_unique().all()
    assert set(f4["宛名番号"]) == set(in_scope["atena_no"])
    scored = f4.join(truth, left_on="宛名番号", right_on="atena_no")
    assert scored.filter(pl.col("is_mislink") & (pl.col("判定") == "A")).height == 0
    agreement = (scored["判定"] == scored["expected_grade"]).mean()
    assert agreement >= 0.99, agreement


def test_no_my_number_outside_the_data_files(round_trip) -> None:
    numbers = round_trip["data"].registry["my_number"].to_list()
    texts = [round_trip[k].stdout + round_trip[k].stderr for k in ("req", "mat")]
    assert leaked(numbers, texts, instance_storage(round_trip["home"])) == []


def test_bad_input_exits_2_naming_file_row_and_column(round_trip) -> None:
    bad = round_trip["tmp"] / "bad.csv"
    lines = round_trip["data"].extract.head(3).write_csv().splitlines()
    cells = lines[2].split(",")
    cells[1] = cells[1][:11] + str((int(cells[1][11]) + 1) % 10)  # wrong check digit
    lines[2] = ",".join(cells)
    bad.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    out = tenken(
        "request",
        "--home",
        str(round_trip["home"]),
        "--agency",
        "392014",
        "--jimu",
        "kaigo_hoken",
        "--extract",
        str(bad),
        "--out",
        str(round_trip["tmp"] / "never"),
    )
    assert out.returncode == 2
    assert "ファイル「bad.csv」 3行目 列「個人番号」" in out.stderr
    assert "MYNUMBER_CHECK_DIGIT" in out.stderr
    assert not (round_trip["tmp"] / "never").exists()
    assert leaked([cells[1]], [out.stdout, out.stderr]) == []


def test_unknown_agency_and_jimu_are_refused(round_trip) -> None:
    out = tenken(
        "request",
        "--home",
        str(round_trip["home"]),
        "--agency",
        "392015",
        "--jimu",
        "kaigo_hoken",
        "--extract",
        "x.csv",
        "--out",
        "y",
    )
    assert out.returncode == 2 and "AGENCY_CODE" in out.stderr
    out = tenken(
        "match",
        "--home",
        str(round_trip["home"]),
        "--agency",
        "392014",
        "--jimu",
        "nope",
        "--result",
        "x",
        "--out",
        "y",
    )
    assert out.returncode == 2 and "JIMU_UNKNOWN" in out.stderr
