"""No 個人番号 where it must not be, even when a run fails with an error nobody planned for.

Errors raised deep inside polars or pandera quote the values they failed on. Such a failure
is injected into 照会結果 (in-process, so the real Dagster instance records it as it would any
fault); afterwards the numbers must appear nowhere: not in stdout/stderr, not in the Python
logs, not in the instance (event log, run storage, compute logs), not in the error text the
CLI shows — while the error itself is still reported, masked.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from typer.testing import CliRunner

import assets.stages.inquiry_result
import tenken.cli
from tenken.cli import app
from tests.fixtures.bad_input import corpus
from tests.leaks import Residents, case_store_events, instance_storage, leaked, numbers_in

pytestmark = pytest.mark.slow

AGENCY, JIMU = "392014", "kaigo_hoken"


def polars_cast(results: pl.DataFrame) -> pl.DataFrame:
    # a bug: the number treated as a small integer; polars names the values it could not cast
    return results.with_columns(pl.col("my_number").cast(pl.Int8, strict=True))


class TooStrict(pa.DataFrameModel):
    my_number: str = pa.Field(str_length={"max_value": 4})


def pandera_eager(results: pl.DataFrame) -> pl.DataFrame:
    # a contract validated eagerly inside a step: pandera's message quotes failure cases
    return TooStrict.validate(results.select("my_number"))


def failing_after(bug: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[..., object]:
    """The real F3 reading, then ``bug`` on the frame it read (which holds 個人番号)."""
    real = assets.stages.inquiry_result.read_results

    def read_results(*args: object, **kwargs: object) -> object:
        results, stats = real(*args, **kwargs)  # type: ignore[arg-type]
        return bug(results), stats

    return read_results


@pytest.mark.parametrize("bug", [polars_cast, pandera_eager], ids=["polars", "pandera"])
def test_an_unexpected_failure_leaves_no_number_anywhere(
    bug: Callable[[pl.DataFrame], pl.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    runner = CliRunner()
    common = ["--home", str(home), "--agency", AGENCY, "--jimu", JIMU]
    first = runner.invoke(
        app,
        [
            "request",
            *common,
            "--extract",
            str(corpus.HERE / "good_extract.csv"),
            "--out",
            str(tmp_path / "f2"),
        ],
    )
    assert first.exit_code == 0, first.output

    monkeypatch.setattr(assets.stages.inquiry_result, "read_results", failing_after(bug))
    failed = runner.invoke(
        app,
        ["match", *common, "--result", str(corpus.HERE / "good_result.csv"), "--out", str(tmp_path / "f4")],
    )

    assert failed.exit_code == 1  # a fault, not bad input
    assert "処理に失敗しました" in failed.stderr
    # the error is still there to be found, with the numbers masked
    assert any(f"********{n[-4:]}" in failed.stderr for n in corpus.NUMBERS), failed.stderr
    texts = [failed.stdout, failed.stderr, first.stdout, first.stderr, caplog.text]
    assert leaked(corpus.NUMBERS, texts, instance_storage(home)) == []
    assert not (tmp_path / "f4").exists()


def test_an_unexpected_error_outside_dagster_is_printed_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> None:
        raise ValueError(f"conversion failed for values: [{corpus.NUMBERS[0]!r}]")

    monkeypatch.setattr(tenken.cli, "app", broken)
    monkeypatch.setattr(os, "umask", lambda _mask: 0o022)  # main() sets it; keep the test process as it was
    with pytest.raises(SystemExit) as exit_:
        tenken.cli.main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    # the terminal: the message, its code and where the details are; never the traceback (issue 11.6)
    assert "[INTERNAL_ERROR]" in err and "ValueError" in err and "Traceback" not in err
    log = Path(err.strip().splitlines()[-1].split(": ", 1)[1])
    details = log.read_text(encoding="utf-8")
    assert "ValueError" in details and f"********{corpus.NUMBERS[0][-4:]}" in details
    assert leaked(corpus.NUMBERS, [err, details]) == []


# ---- issue 11: nothing personal outside the files meant to hold it ---------------------------


def _swap_columns(text: str, a: str, b: str) -> str:
    """An F1/F3 whose header names ``a`` and ``b`` are swapped (values stay where they were)."""
    header, *rest = text.split("\r\n")
    names = header.split(",")
    i, j = names.index(a), names.index(b)
    names[i], names[j] = names[j], names[i]
    return "\r\n".join([",".join(names), *rest])


@pytest.fixture(scope="module")
def used_and_refused(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A home after a round with cases, refused inputs of every kind, a refused and an
    accepted workbook import, and the audit export; with everything the terminal printed."""
    from demo.generator import generate
    from demo.simulator import answer_files
    from tests.cases.factory import Sheet

    tmp = tmp_path_factory.mktemp("leaks")
    home = tmp / "home"
    runner = CliRunner()
    common = ["--home", str(home), "--agency", AGENCY, "--jimu", JIMU]
    outputs: list[str] = []

    def run(*args: str) -> int:
        result = runner.invoke(app, list(args))
        outputs.append(result.stdout + result.stderr)
        return result.exit_code

    data = generate(400, agency=AGENCY, jimu=JIMU, seed=5)
    f1 = data.write_extract(tmp / "f1.csv")
    assert run("request", *common, "--extract", str(f1), "--round", "2026", "--out", str(tmp / "f2")) == 0
    f3 = answer_files(sorted((tmp / "f2").glob("request_*.csv")), data.registry, tmp / "f3")
    assert run("match", *common, "--result", str(f3[0].parent), "--out", str(tmp / "out")) == 0

    refused_inputs = []
    good = f1.read_bytes().decode("cp932")
    for name, text in (
        ("swapped_number_birth.csv", _swap_columns(good, "個人番号", "生年月日")),
        ("swapped_name_sex.csv", _swap_columns(good, "氏名", "性別")),
        ("swapped_address_route.csv", _swap_columns(good, "住所", "取得経路")),
    ):
        path = tmp / name
        path.write_bytes(text.encode("cp932"))
        refused_inputs.append(path)
        assert (
            run(
                "request",
                *common,
                "--extract",
                str(path),
                "--round",
                "2027",
                "--out",
                str(tmp / f"out_{name}"),
            )
            != 0  # (an --out naming the input file itself would be refused before reading it)
        )
    f3_text = f3[0].read_bytes().decode("cp932")
    for name, text in (
        ("swapped_ino_number.csv", _swap_columns(f3_text, "照会番号", "個人番号")),
        ("swapped_birth_name.csv", _swap_columns(f3_text, "生年月日", "氏名")),
    ):
        folder = tmp / name.removesuffix(".csv")
        folder.mkdir()
        (folder / name).write_bytes(text.encode("cp932"))
        refused_inputs.append(folder / name)
        assert run("match", *common, "--result", str(folder), "--out", str(tmp / f"out_{name}")) != 0

    number = data.registry["my_number"][0]
    groups = (number[:4], number[4:8], number[8:])
    f5 = tmp / "out" / "確認作業リスト.xlsx"
    sheet = Sheet(f5)
    first, second = list(sheet.row)[:2]
    sheet.fill(first, 状態="確認中", 担当者=".".join(groups), 確認方法=number, 備考="ー".join(groups))
    sheet.fill(second, 状態="確認中", 担当者="山田", 確認方法="電話", 確認日=" ".join(groups))
    refused_workbook = sheet.save(tmp / "refused.xlsx")
    assert run("cases", "import", str(refused_workbook), "--home", str(home)) == 2
    accepted = Sheet(f5)
    accepted.fill(first, 状態="確認中", 担当者="山田", 確認方法="電話", 備考="本人へ電話 088-822-1234")
    assert run("cases", "import", str(accepted.save(tmp / "accepted.xlsx")), "--home", str(home)) == 0
    audit_export = tmp / "監査ログ.csv"
    assert run("cases", "audit", "--out", str(audit_export), "--home", str(home)) == 0

    inputs = [f1, *f3, *refused_inputs]
    return {
        "home": home,
        "tmp": tmp,
        "outputs": outputs,
        "numbers": numbers_in(inputs) | set(data.registry["my_number"]),
        "residents": Residents.of([f1, *f3]),  # the swapped copies hold the same people
        "reports": [
            *home.glob("data/rounds/*/*/*/errors/*"),
            *tmp.glob("*_取込結果.csv"),
            audit_export,
        ],
        "f5": [f5, tmp / "out" / "確認作業リスト.xlsx"],
    }


def test_no_number_in_any_grouping_outside_the_data_files(used_and_refused: dict) -> None:
    u = used_and_refused
    assert len(u["reports"]) >= 5  # error reports of each refused input, import reports, audit
    where = [*instance_storage(u["home"]), *u["reports"], *u["f5"], u["home"] / "data" / "cases.sqlite"]
    assert leaked(u["numbers"], u["outputs"], where) == []


def test_no_resident_data_outside_the_files_meant_to_hold_it(used_and_refused: dict) -> None:
    u = used_and_refused
    people: Residents = u["residents"]
    assert len(people.names) > 100 and len(people.births) > 100
    events = case_store_events(u["home"])
    assert events and len(events[0]) > 1000  # the audit trail was read
    where = [*instance_storage(u["home"]), *u["reports"]]
    assert people.found_in([*u["outputs"], *events], where) == []


def test_the_scan_sees_what_the_home_holds(used_and_refused: dict) -> None:
    """The files meant to hold them do hold numbers and residents: the scan is not blind."""
    u = used_and_refused
    f4 = u["tmp"] / "out" / "照合結果.csv"
    assert leaked(u["numbers"], paths=[f4]) != []
    assert u["residents"].found_in(paths=[f4]) != []
