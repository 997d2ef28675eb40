"""Scale benchmark: both phases through the CLI at N rows, against the I/O floor.

For each N (default 100k, 1M, 10M):

1. generate a synthetic extract of N rows with the project's generator, and its registry
   (not timed; large N are generated in chunks so the generator's memory stays bounded);
2. time ``tenken request`` and ``tenken match`` as subprocesses (the path a user takes),
   recording wall time and the peak RSS of the whole process tree (sampled with psutil),
   and the time of each stage from the Dagster instance's step statistics;
3. answer F2 with the 住基ネット simulator between the phases (not timed);
4. measure the **I/O floor** in the same run: polars alone reading F1 and F3 and writing F4
   with the same encodings (cp932 in, cp932 out), which no implementation can beat;
5. with ``--peer`` (the default when Splink is installed, ``bench`` extra), at 1M rows (where
   its target is set), run **the peer** on
   the same F1 and F3 files in a fresh process: Splink with DuckDB reading them, linking on the
   個人番号, comparing 氏名, カナ, 生年月日, 性別 and 住所 and scoring every pair, then writing
   the pairs (``benchmarks/peer_splink.py``), and print tenken's 照合 step beside it.

Every target of the performance issues is printed with met / not met at the end.

Before anything is timed, the bytecode of the environment and of tenken is compiled, as
``pip install`` does by default: ``uv pip install`` does not, and where
``PYTHONDONTWRITEBYTECODE`` is set (as on the development machines) every fresh process would
otherwise compile dagster, pandas, pandera… from source again, ~2.5 s of start-up per phase on
a quiet machine and 8 s under load (profiled in issue 17). Skip with ``--no-compile``.

Prints a table and writes it as JSON to ``benchmarks/results/``. From a fresh clone::

    python3.11 -m pip install ".[bench]"
    python3.11 benchmarks/scale.py                 # 100k, 1M, 10M
    python3.11 benchmarks/scale.py --rows 100000 1000000

Wall times depend on what else the machine runs: the load average before and after each
size and the CPU time of the process tree are recorded beside them. An extract larger than
the input limit (``input.max_input_bytes``, by default what the machine's memory allows) is
refused by ``tenken request`` before it reads anything; the table then says so for that size.

Numbers only: nothing here is asserted (the test suite never times anything).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
CHUNK = 1_000_000
#: the size the peer runs at: its target compares 照合 with it there (at 10M it only costs time)
PEER_ROWS = 1_000_000


@dataclass
class Measure:
    wall_s: float
    peak_rss_mb: float
    cpu_s: float = 0.0  # user + system of the whole process tree
    steps: dict[str, float] = field(default_factory=dict)


@dataclass
class Row:
    rows: int
    phase1: Measure
    phase2: Measure
    io_floor_s: float
    f1_mb: float
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    refused: str = ""  # why tenken refused this size (input limit), else empty
    peer: dict[str, float] = field(default_factory=dict)  # Splink's read / link_score / write, peak

    @property
    def total_s(self) -> float:
        return self.phase1.wall_s + self.phase2.wall_s


class TreeSampler:
    """Peak RSS of a process and all its descendants, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
                self.peak = max(self.peak, total)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Refused(Exception):
    """tenken refused the input (exit 2) — for the benchmark, the input limit."""


def run_cli(args: list[str], env: dict[str, str]) -> Measure:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tenken", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeSampler(proc.pid) as sampler:
        _, err = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode == 2:
        # the message of the refusal: the lines naming the file, its problem and code
        found = [line.strip() for line in err.splitlines() if line.strip().startswith("ファイル「")]
        raise Refused(found[-1] if found else err.strip()[-500:] or "exit 2")
    if proc.returncode != 0:
        raise SystemExit(f"tenken {args[0]} failed ({proc.returncode}):\n{err[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measure(wall, sampler.peak / 1024**2, round(cpu, 2))


def step_times(home: Path) -> list[dict[str, float]]:
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    runs = list(reversed(instance.get_runs(limit=2)))
    return [
        {
            s.step_key: round((s.end_time or 0) - (s.start_time or 0), 2)
            for s in instance.get_run_step_stats(r.run_id)
        }
        for r in runs
    ]


def generate_inputs(n: int, work: Path) -> tuple[Path, pl.DataFrame]:
    """F1 (cp932) and the registry, in chunks of CHUNK rows with disjoint people."""
    from demo.generator import generate

    f1 = work / "f1.csv"
    registries = []
    with f1.open("wb") as out:
        for k, start in enumerate(range(0, n, CHUNK)):
            size = min(CHUNK, n - start)
            data = generate(size, agency=AGENCY, jimu=JIMU, seed=1000 + k)
            frame = data.extract.with_columns(
                # 宛名番号 unique across chunks
                (pl.lit(f"{k:02d}") + pl.col("宛名番号").str.slice(2)).alias("宛名番号")
            )
            text = frame.write_csv(include_header=(k == 0), line_terminator="\r\n")
            out.write(text.encode("cp932"))
            registries.append(data.registry)
    os.chmod(f1, 0o600)
    registry = pl.concat(registries).unique("my_number", keep="first")
    return f1, registry


def io_floor(f1: Path, f3_dir: Path, work: Path) -> float:
    """polars alone: read F1 and every F3 (cp932), write an F4-sized CSV in cp932."""
    start = time.perf_counter()
    extract = pl.read_csv(f1.read_bytes().decode("cp932").encode(), infer_schema=False)
    results = pl.concat(
        [
            pl.read_csv(p.read_bytes().decode("cp932").encode(), infer_schema=False)
            for p in sorted(f3_dir.glob("*.csv"))
        ]
    )
    joined = results.join(extract, left_on="個人番号", right_on="個人番号", how="left", suffix="_業務")
    (work / "floor_f4.csv").write_bytes(joined.write_csv().encode("cp932", errors="replace"))
    return time.perf_counter() - start


def peer_splink(f1: Path, f3_dir: Path, work: Path) -> dict[str, float]:
    """benchmarks/peer_splink.py in a fresh process (its own peak RSS); {} without Splink."""
    script = str(ROOT / "benchmarks" / "peer_splink.py")
    proc = subprocess.Popen(
        [sys.executable, script, "--f1", str(f1), "--f3", str(f3_dir), "--out", str(work / "peer")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeSampler(proc.pid) as sampler:
        out, err = proc.communicate()
    if proc.returncode != 0:
        print(f"peer failed ({proc.returncode}): {err[-1500:]}", flush=True)
        return {}
    figures = json.loads(out)
    return {k: v for k, v in figures.items() if isinstance(v, float | int)} | {
        "peak_rss_mb": round(sampler.peak / 1024**2)
    }


def _has_splink() -> bool:
    import importlib.util

    return importlib.util.find_spec("splink") is not None and importlib.util.find_spec("duckdb") is not None


def measure(n: int, keep: bool, peer: bool = False) -> Row:
    from demo.simulator import answer_files

    work = Path(tempfile.mkdtemp(prefix=f"tenken-bench-{n}-"))
    try:
        print(f"[{n:,} rows] generating…", flush=True)
        f1, registry = generate_inputs(n, work)
        f1_mb = f1.stat().st_size / 1024**2
        home = work / "home"
        env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "yes"}
        load_before = os.getloadavg()
        print(f"[{n:,} rows] phase 1… (load {load_before[0]:.2f})", flush=True)
        try:
            m1 = run_cli(
                [
                    "request",
                    "--home",
                    str(home),
                    "--agency",
                    AGENCY,
                    "--jimu",
                    JIMU,
                    "--extract",
                    str(f1),
                    "--round",
                    ROUND,
                    "--out",
                    str(work / "f2"),
                ],
                env,
            )
        except Refused as e:
            print(f"[{n:,} rows] refused: {e}", flush=True)
            none = Measure(0.0, 0.0)
            return Row(n, none, none, 0.0, f1_mb, load_before, os.getloadavg(), refused=str(e))
        f3_dir = work / "f3"
        answer_files(sorted((work / "f2").glob("request_*.csv")), registry, f3_dir)
        del registry
        print(f"[{n:,} rows] phase 2…", flush=True)
        m2 = run_cli(
            [
                "match",
                "--home",
                str(home),
                "--agency",
                AGENCY,
                "--jimu",
                JIMU,
                "--result",
                str(f3_dir),
                "--out",
                str(work / "out"),
            ],
            env,
        )
        load_after = os.getloadavg()
        m1.steps, m2.steps = step_times(home)
        print(f"[{n:,} rows] I/O floor…", flush=True)
        floor = io_floor(f1, f3_dir, work)
        row = Row(n, m1, m2, floor, f1_mb, load_before, load_after)
        if peer:
            print(f"[{n:,} rows] peer (Splink)…", flush=True)
            row.peer = peer_splink(f1, f3_dir, work)
        return row
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def compile_bytecode() -> None:
    """What ``pip install`` does at install time: write the ``.pyc`` of every module once."""
    import compileall
    import sysconfig

    start = time.perf_counter()
    paths = [Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])]
    paths += [ROOT / name for name in ("schemas", "pipelines", "assets", "tenken", "demo")]
    for path in dict.fromkeys(paths):
        compileall.compile_dir(path, quiet=2, workers=1)
    print(f"bytecode compiled ({time.perf_counter() - start:.1f} s, not timed)", flush=True)


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "platform": platform.platform(),
        "input_limit_bytes": _input_limit(),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
    }


def _input_limit() -> int:
    from pipelines.files.limits import input_limit

    return input_limit(None)


def table(rows: list[Row]) -> str:
    head = (
        f"{'rows':>11} {'phase1 s':>9} {'phase2 s':>9} {'total s':>8} {'CPU s':>7} {'peak RSS MB':>12} "
        f"{'I/O floor s':>12} {'× floor':>8} {'µs/row':>7} {'load':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.refused:
            lines.append(f"{r.rows:>11,} refused by tenken (F1 {r.f1_mb:,.0f} MB): {r.refused}")
            continue
        peak = max(r.phase1.peak_rss_mb, r.phase2.peak_rss_mb)
        cpu = r.phase1.cpu_s + r.phase2.cpu_s
        lines.append(
            f"{r.rows:>11,} {r.phase1.wall_s:>9.1f} {r.phase2.wall_s:>9.1f} {r.total_s:>8.1f} {cpu:>7.1f} "
            f"{peak:>12,.0f} {r.io_floor_s:>12.1f} {r.total_s / r.io_floor_s:>8.1f} "
            f"{r.total_s / r.rows * 1e6:>7.1f} {r.load_before[0]:>4.1f}→{r.load_after[0]:<4.1f}"
        )
    lines.append("")
    for r in rows:
        steps = {**r.phase1.steps, **r.phase2.steps}
        if steps:
            lines.append(f"{r.rows:>11,} steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    for r in rows:
        if r.peer:
            match = r.phase2.steps.get("match_result", 0.0)
            p = r.peer
            lines.append(
                f"{r.rows:>11,} peer Splink: read {p['read_s']:.1f}s, link and score "
                f"{p['link_score_s']:.1f}s, write {p['write_s']:.1f}s (all {p['total_s']:.1f}s, peak "
                f"{p['peak_rss_mb']:,.0f} MB, {p['pairs']:,.0f} pairs) | tenken 照合 {match:.1f}s = "
                f"{match / p['link_score_s']:.2f}× its link and score, {match / p['total_s']:.2f}× its all"
            )
    done = {r.rows: r for r in rows if not r.refused}
    if 1_000_000 in done and 10_000_000 in done:
        a, b = done[1_000_000], done[10_000_000]
        lines.append(f"time per row 10M / 1M: {(b.total_s / b.rows) / (a.total_s / a.rows):.2f}")
    lines += ["", "targets:", *targets(done)]
    return "\n".join(lines)


def targets(done: dict[int, Row]) -> list[str]:
    """Each target of the performance issues: met / NOT MET / not measured in this run."""

    def peak(r: Row) -> float:
        return max(r.phase1.peak_rss_mb, r.phase2.peak_rss_mb)

    checks: list[tuple[str, str, bool | None]] = []
    one, ten = done.get(1_000_000), done.get(10_000_000)
    if one:
        ratio = one.total_s / one.io_floor_s
        checks += [
            ("1M rows, both phases ≤ 20 s", f"{one.total_s:.1f} s", one.total_s <= 20),
            ("1M × the I/O floor ≤ 3 ×", f"{ratio:.1f} ×", ratio <= 3),
            ("peak RSS at 1M ≤ 3 GB", f"{peak(one) / 1024:.2f} GB", peak(one) <= 3 * 1024),
        ]
    else:
        checks += [("1M rows: both phases ≤ 20 s, ≤ 3 × the I/O floor, ≤ 3 GB", "", None)]
    if ten:
        checks += [
            ("10M rows, both phases ≤ 240 s", f"{ten.total_s:.0f} s", ten.total_s <= 240),
            ("peak RSS at 10M ≤ 8 GB", f"{peak(ten) / 1024:.2f} GB", peak(ten) <= 8 * 1024),
        ]
    else:
        checks += [("10M rows: both phases ≤ 240 s, ≤ 8 GB", "", None)]
    match = one.phase2.steps.get("match_result") if one else None
    peer = one.peer if one else {}
    if match is not None and peer:
        link, everything = peer["link_score_s"], peer["total_s"]
        checks += [
            (
                "照合 at 1M faster than Splink's link and score",
                f"{match:.1f} s vs {link:.1f} s",
                match < link,
            ),
            (
                "照合 at 1M faster than Splink's read + link + write",
                f"{match:.1f} s vs {everything:.1f} s",
                match < everything,
            ),
        ]
    else:
        checks += [("照合 at 1M faster than Splink (needs 1M rows and the bench extra)", "", None)]
    word = {True: "met         ", False: "NOT MET     ", None: "not measured"}
    return [f"  {word[ok]}  {label}  {figure}" for label, figure, ok in checks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    parser.add_argument(
        "--peer",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run Splink on the same files at 1M rows, where its target is (default: when installed)",
    )
    parser.add_argument(
        "--compile", action=argparse.BooleanOptionalAction, default=True, help="compile bytecode first"
    )
    args = parser.parse_args()
    if args.compile:
        compile_bytecode()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"scale-{datetime.now():%Y%m%d-%H%M%S}.json"
    rows: list[Row] = []
    for n in args.rows:
        peer = (_has_splink() if args.peer is None else args.peer) and n == PEER_ROWS
        rows.append(measure(n, args.keep, peer))
        # written after every size, so a long run keeps what it measured
        out.write_text(
            json.dumps(
                {"machine": machine(), "results": [asdict(r) | {"total_s": r.total_s} for r in rows]},
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    print()
    print(table(rows))
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
