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
from tests.leaks import instance_storage, leaked

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
    assert "ValueError" in err and f"********{corpus.NUMBERS[0][-4:]}" in err
    assert leaked(corpus.NUMBERS, [err]) == []
