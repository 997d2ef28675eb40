"""Private scratch folders for the decoded copy of an input (it holds 個人番号).

Each folder is 0700, named after the process that made it, and removed when reading ends;
folders a killed process left behind are removed the next time one is made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipelines.system import process_alive

SCRATCH_PREFIX = "tenken-csv-"


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder (0700) for the UTF-8 copy of an input, removed afterwards.

    Folders a killed process left behind (they may hold 個人番号) go first.
    """
    base = Path(tempfile.gettempdir())
    for stale in base.glob(f"{SCRATCH_PREFIX}*"):
        pid = stale.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
