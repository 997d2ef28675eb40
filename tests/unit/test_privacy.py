"""特定個人情報 helpers: masking free text, and private files that survive a crash cleanly."""

import os
import stat
from pathlib import Path

import pytest

from pipelines.privacy import private_file, scrub, write_private


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('values: ["123456789018"]', 'values: ["********9018"]'),
        ("123456789018", "********9018"),
        (
            "番号１２３４５６７８９０１８です",
            "番号********９０１８です",
        ),  # full width, as typed in an extract
        ("a 123456789018,987654321098 b", "a ********9018,********1098 b"),
        ("X123456789018", "X********9018"),  # letters around do not protect a number
        ("12345678901", "12345678901"),  # 11 digits: not a 個人番号
        ("1234567890123", "1234567890123"),  # 13 digits: a longer code, left alone
        ("照会番号 0000000003", "照会番号 0000000003"),  # 10 digits
        ("2026-11-23 12:00:00", "2026-11-23 12:00:00"),
    ],
)
def test_scrub_masks_every_twelve_digit_run(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_private_files_are_owner_only_in_owner_only_folders(tmp_path: Path) -> None:
    path = write_private(tmp_path / "a" / "b" / "f.csv", b"x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


def test_a_failed_write_leaves_the_old_file_and_no_temporary_copy(tmp_path: Path) -> None:
    target = write_private(tmp_path / "f.csv", b"old")
    with pytest.raises(RuntimeError), private_file(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.csv"]


def test_a_write_after_a_crash_removes_the_temporary_copy_the_crash_left(tmp_path: Path) -> None:
    # what SIGKILL between writing and renaming leaves behind (holds 個人番号 in real life)
    debris = tmp_path / ".f.csv.x1y2z3.part"
    debris.write_bytes(b"123456789018")
    write_private(tmp_path / "f.csv", b"new")
    assert sorted(os.listdir(tmp_path)) == ["f.csv"]
