"""What the operator's terminal shows while a run goes, and the log file behind it.

Dagster's own console log never reaches the terminal (its ERROR lines and "Stack Trace:"
blocks are for the instance, which keeps them). Instead, every event of a run is written —
through the one masker ``pipelines.privacy.scrub`` — to ``<home>/logs/tenken.log`` (0600),
and the terminal gets one line when a stage starts and one when it ends, with its counts and
its time: drawn by rich on a terminal, plain lines otherwise (a script, a pipe, a log).
"""

from __future__ import annotations

import os
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pipelines.privacy import scrub

#: the stages and reports, as staff call them
STAGE_LABELS = {
    "extract": "抽出",
    "inquiry_request": "住基照会要求",
    "inquiry_result": "照会結果",
    "match_result": "照合",
    "mismatch_review": "不一致確認",
    "periodic_report": "定期報告",
    "monthly_report": "定期報告（月次）",
    "recheck_calendar": "点検周期",
}

#: a run's listener: (run id, Dagster event log entry)
Listener = Callable[[str, Any], None]


def log_file(home: Path) -> Path:
    return home / "logs" / "tenken.log"


def append_log(home: Path, lines: Sequence[str]) -> Path:
    """Append ``lines`` (masked) to the home's log file, created 0600 in a 0700 folder."""
    path = log_file(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        for line in lines:
            out.write(scrub(line).rstrip("\n") + "\n")
    return path


class RunLog:
    """A listener writing every event of a run to the home's log file, masked."""

    def __init__(self, home: Path):
        self.home = home

    def __call__(self, run_id: str, entry: Any) -> None:
        stamp = datetime.fromtimestamp(entry.timestamp).astimezone().isoformat(timespec="seconds")
        event = entry.dagster_event
        kind = event.event_type_value if event is not None else "LOG"
        step = entry.step_key or "-"
        lines = [f"{stamp} run={run_id[:8]} step={step} {kind} {entry.user_message or ''}".rstrip()]
        error = _error_of(event)
        while error is not None:
            lines.append(f"    {error.cls_name}: {error.message.strip()}")
            lines.extend("    " + frame.rstrip() for frame in error.stack)
            error = error.cause
        append_log(self.home, lines)


def _error_of(event: Any) -> Any:
    if event is None:
        return None
    data = getattr(event, "event_specific_data", None)
    return getattr(data, "error", None)


def width(text: str) -> int:
    """Display width in a terminal: full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int, *, right: bool = False) -> str:
    fill = " " * max(0, cells - width(text))
    return fill + text if right else text + fill


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Iterable[int] = ()
) -> list[str]:
    """An aligned plain-text table (full-width aware); the ``numeric`` columns right-aligned."""
    numeric = set(numeric)
    cells = [["" if v is None else (f"{v:,}" if isinstance(v, int) else str(v)) for v in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            pad(v, w, right=i in numeric) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    return [line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in cells)]


def _counts(metadata: dict[str, Any]) -> str:
    shown = [(k, v) for k, v in metadata.items() if k.endswith("件数") and isinstance(v.value, int)]
    return "、".join(f"{k.removesuffix('件数')} {v.value:,} 件" for k, v in shown[:4])


@dataclass
class Progress:
    """A listener printing each stage's start and end (counts, seconds) as it happens."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    rich: bool = False
    started: dict[str, float] = field(default_factory=dict)
    counts: dict[str, str] = field(default_factory=dict)
    _console: Any = None
    _live: Any = None

    def __post_init__(self) -> None:
        if self.rich:
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=True, highlight=False)

    def __call__(self, run_id: str, entry: Any) -> None:
        event = entry.dagster_event
        label = STAGE_LABELS.get(entry.step_key or "")
        if event is None or label is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[entry.step_key] = time.monotonic()
            self._line("start", label, "開始")
            self._spin(label)
        elif kind == "ASSET_MATERIALIZATION":
            self.counts[entry.step_key] = _counts(event.step_materialization_data.materialization.metadata)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            self._spin(None)
            seconds = time.monotonic() - self.started.pop(entry.step_key, time.monotonic())
            if kind == "STEP_SUCCESS":
                counts = self.counts.pop(entry.step_key, "")
                self._line("end", label, f"完了 {seconds:.1f} 秒" + (f"（{counts}）" if counts else ""))
            else:
                self._line("fail", label, f"中止 {seconds:.1f} 秒")

    def close(self) -> None:
        self._spin(None)

    def _spin(self, label: str | None) -> None:
        """On a terminal, a spinner with the seconds elapsed while a stage runs (a long stage
        is not silent); it disappears when the stage ends."""
        if self._console is None:
            return
        if self._live is not None:
            self._live.stop()
            self._live = None
        if label is not None:
            from rich.progress import Progress as Bar
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._live = Bar(
                SpinnerColumn(), TextColumn(f"{label} 実行中"), TimeElapsedColumn(),
                console=self._console, transient=True,
            )  # fmt: skip
            self._live.add_task(label, total=None)
            self._live.start()

    def _line(self, kind: str, label: str, text: str) -> None:
        if self._console is None:
            self.stream.write(f"{label}: {text}\n")
            self.stream.flush()
            return
        mark = {"start": "[cyan]▶[/]", "end": "[green]✔[/]", "fail": "[red]✘[/]"}[kind]
        self._console.print(f"{mark} [bold]{label}[/] {text}")


def progress_for(stream: TextIO | None = None) -> Progress:
    """Rich lines on a terminal (or where rich is told one is there: FORCE_COLOR / TTY_COMPATIBLE)."""
    from rich.console import Console

    stream = stream or sys.stderr
    return Progress(stream=stream, rich=Console(file=stream).is_terminal)


@contextmanager
def listening(*listeners: Listener) -> Iterator[None]:
    """Every run started inside (through ``tenken.runner``) also reports to ``listeners``."""
    from tenken import runner

    runner.LISTENERS.extend(listeners)
    try:
        yield
    finally:
        for listener in listeners:
            runner.LISTENERS.remove(listener)
            close = getattr(listener, "close", None)
            if close is not None:
                close()  # a spinner left by a run that ended abruptly
