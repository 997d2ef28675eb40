"""Returned workbooks in the inbox: settled files only, never Excel's lock files, once per version."""

import os
import time
from pathlib import Path

from pipelines.ops.inbox import scan_returned


def touch(path: Path, age: float = 60.0, body: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def test_only_settled_workbooks_of_valid_folders_arrive(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    done = touch(inbox / "392014/kaigo_hoken/2026/returned/山田記入.xlsx")
    touch(inbox / "392014/kaigo_hoken/2026/returned/~$山田記入.xlsx")  # Excel has it open
    touch(inbox / "392014/kaigo_hoken/2026/returned/佐藤記入.xlsx", age=0)  # still being copied
    touch(inbox / "392014/kaigo_hoken/2026/returned/山田記入_取込結果.csv")  # our own report
    touch(inbox / "392015/kaigo_hoken/2026/returned/x.xlsx")  # bad check digit
    arrivals = scan_returned(inbox, now=time.time(), settle_seconds=10)
    assert [(a.agency, a.jimu, a.round_id, a.file) for a in arrivals] == [
        ("392014", "kaigo_hoken", "2026", done)
    ]


def test_the_same_file_has_the_same_run_key_until_it_is_saved_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    path = touch(inbox / "392014/kaigo_hoken/2026/returned/f5.xlsx")
    first = scan_returned(inbox, now=time.time(), settle_seconds=10)[0].run_key
    assert scan_returned(inbox, now=time.time(), settle_seconds=10)[0].run_key == first
    touch(path, body=b"saved again")
    assert scan_returned(inbox, now=time.time(), settle_seconds=10)[0].run_key != first
