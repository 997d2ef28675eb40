"""`tenken ui` warns when no Japanese font is installed (the UI would show tofu boxes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.reporting.files import font_path
from tenken.fonts import font_warning, japanese_fonts

pytestmark = pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig (fc-list) not installed")


def fontconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *dirs: Path) -> None:
    """A fontconfig of its own: only the fonts in ``dirs`` (none: no font at all)."""
    config = tmp_path / "fonts.conf"
    listed = "".join(f"<dir>{d}</dir>" for d in dirs)
    config.write_text(
        f'<?xml version="1.0"?><fontconfig>{listed}<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>',
        encoding="utf-8",
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))


def test_no_japanese_font_is_warned_with_the_remedy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fontconfig(tmp_path, monkeypatch)
    assert japanese_fonts() == []
    warning = font_warning()
    assert warning is not None and "日本語フォント" in warning and str(font_path()) in warning


def test_a_japanese_font_silences_the_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fontconfig(tmp_path, monkeypatch, font_path().parent)  # IPAexGothic, shipped with tenken
    assert japanese_fonts() and font_warning() is None
