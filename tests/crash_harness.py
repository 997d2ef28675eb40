"""Run the tenken CLI and kill it with SIGKILL right before its N-th durable write.

    python -m tests.crash_harness N tenken-arguments…    (from the repository root)

Every file tenken writes goes through ``pipelines.privacy.private_file``: written under a
temporary name, then renamed. The harness counts those renames; at the N-th it kills its own
process with SIGKILL before the rename happens, leaving what a power cut or ``kill -9``
leaves: the earlier files renamed, this one only as a temporary ``.part`` file, the Dagster
run "started" for ever. With N = 0 nothing is killed, each write is named on stderr and
their number is printed last (``durable writes: K``), so a test can aim at each of them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pipelines.privacy as privacy

WRITES_MARK = "durable writes: "


def main() -> None:
    kill_at = int(sys.argv[1])
    real_private_file = privacy.private_file
    writes = 0

    @contextlib.contextmanager
    def private_file(path: Path) -> Iterator[BinaryIO]:
        nonlocal writes
        with real_private_file(path) as fh:
            yield fh
            fh.flush()
            writes += 1
            if kill_at == 0:
                print(f"durable write {writes}: {path.name}", file=sys.stderr)
            if writes == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    privacy.private_file = private_file  # type: ignore[assignment]
    atexit.register(lambda: print(f"{WRITES_MARK}{writes}", file=sys.stderr))
    sys.argv = ["tenken", *sys.argv[2:]]
    from tenken.cli import main as tenken_main

    tenken_main()


if __name__ == "__main__":
    main()
