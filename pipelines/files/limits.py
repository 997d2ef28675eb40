"""How large an input file this machine can read without running out of memory.

A file that would exhaust memory half-way is refused before anything is read, saying what to
do instead (``FILE_TOO_LARGE``), rather than being killed by the operating system mid-run.
"""

from __future__ import annotations

import os

from pipelines.errors import Problem

GIBIBYTE = 1024**3


#: machine memory per byte of F1 admitted. Measured by benchmarks/scale.py (RSS of the
#: process tree) since 照合 streams its slices and the later stages read lazily: ≈2.4 GB for
#: the 104 MB F1 of 1M rows (≈0.6 GB of it fixed), ≈8.5 GB for the 1.04 GiB F1 of 10M rows
#: (phase 2, 不一致確認), i.e. ≈8× the input at scale; ÷ 20 keeps more than twice that free
#: for the system and whatever else runs (24 GB: 1.2 GB of F1, ≈11M rows)
MEMORY_PER_INPUT_BYTE = 20


def machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def input_limit(configured: int | None) -> int:
    """The largest input file read: ``input.max_input_bytes``, or else what this machine's
    memory allows (``MEMORY_PER_INPUT_BYTE``)."""
    return configured if configured is not None else machine_memory() // MEMORY_PER_INPUT_BYTE


def too_large(file: str, size: int, limit: int) -> Problem:
    """FILE_TOO_LARGE, saying what to do instead (the limit protects the machine's memory)."""
    return Problem(
        "FILE_TOO_LARGE",
        file=file,
        detail=(
            f"{size / GIBIBYTE:.2f} GiB（{size:,} バイト）> 上限 {limit / GIBIBYTE:.2f} GiB"
            f"（{limit:,} バイト。この端末のメモリ {machine_memory() / GIBIBYTE:.0f} GiB では、"
            f"入力の約 {MEMORY_PER_INPUT_BYTE} 倍のメモリが要ります）。"
            "読み込むと途中でメモリが足りなくなり強制終了されるおそれがあるため、何も読まずに止めました。"
            "対処: 抽出を分けて（例: 宛名番号の範囲ごとに）別の事務・点検回として実行するか、"
            "メモリの多い端末で実行してください（tenken.yaml の input.max_input_bytes で上限を指定できます）"
        ),
    )
