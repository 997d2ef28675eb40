"""`tenken evidence`: the path of a partition's 証跡一覧.html, or a clear refusal when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from assets.instance import ensure_home
from pipelines.home import HomeLayout
from tenken.cli import app


def test_prints_the_index_of_a_partition_or_says_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / "home"
    args = ["evidence", "--home", str(home), "--agency", "392014", "--jimu", "kaigo_hoken"]
    no_home = CliRunner().invoke(app, args)
    assert no_home.exit_code == 2 and "HOME_MISSING" in no_home.output  # a display command makes no home
    ensure_home(home)
    missing = CliRunner().invoke(app, args)
    assert missing.exit_code == 2 and "証跡はまだありません" in missing.output
    index = HomeLayout(home).evidence_dir("392014", "kaigo_hoken") / "証跡一覧.html"
    index.parent.mkdir(parents=True)
    index.write_text("<html></html>", encoding="utf-8")
    found = CliRunner().invoke(app, args)
    assert found.exit_code == 0 and found.output.strip() == str(index)
