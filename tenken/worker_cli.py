"""`tenken worker`: one Celery worker process of a shared deployment (issue 16).

A worker executes the steps of runs whose tenken.yaml says ``instance.executor: celery``,
whoever started them (``tenken request``/``match`` on any machine, the UI, sensors, a
backfill). It uses the home's instance (PostgreSQL in a shared deployment) and data folder
(``instance.data_root``, a share every worker reaches), so each machine running workers has a
home with the same tenken.yaml. Start as many as the machines have cores to spare; stop one
with Ctrl+C (it finishes its step) — a killed worker's step is taken by another worker
(``acks_late``), and the partition lease keeps two runs of one partition apart.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
import yaml

from tenken.cli import HomeOption, resolve_home


def worker_command(config_yaml: str, name: str, concurrency: int) -> list[str]:
    """``dagster-celery worker start`` for tenken's shared definitions."""
    # the one installed beside this Python (a venv's bin/ need not be on PATH)
    beside = Path(sys.executable).parent / "dagster-celery"
    exe = str(beside) if beside.exists() else shutil.which("dagster-celery")
    args = [exe] if exe else [sys.executable, "-m", "dagster_celery.cli"]
    return [
        *args, "worker", "start", "-A", "dagster_celery.app", "-y", config_yaml, "-n", name,
        "-i", "assets.shared_definitions", "--", f"--concurrency={concurrency}",
    ]  # fmt: skip


def _instance_ready(home: Path, attempts: int = 5) -> None:
    """Open the home's instance once, so its tables exist before the worker starts: workers
    started together on a new PostgreSQL instance would otherwise race to create them (one
    fails with a duplicate table)."""
    from assets.instance import open_instance

    for attempt in range(attempts):
        try:
            open_instance(home).dispose()
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)


def worker(
    home: HomeOption = None,
    name: Annotated[str, typer.Option("--name", help="ワーカー名（端末内で一意。既定: tenken-<pid>）")] = "",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="同時に実行する段階の数")] = 1,
) -> None:
    """共有の配置で、段階を実行するワーカーを1つ起動する（tenken.yaml の instance.executor: celery）。"""
    h = resolve_home(home, must_exist=False)  # a new machine's home holds only its tenken.yaml
    _instance_ready(h.path)
    settings = h.settings().instance
    if settings.executor != "celery":
        typer.echo(
            "この tenken home は instance.executor: celery ではありません"
            "（ワーカーは使われません） [CONFIG_INVALID]",
            err=True,
        )
        raise typer.Exit(2)
    folder = h.path / "celery"
    folder.mkdir(mode=0o700, exist_ok=True)
    config = folder / "worker.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": settings.celery_config()}}), encoding="utf-8")
    os.chmod(config, 0o600)
    args = worker_command(str(config), name or f"tenken-{os.getpid()}", concurrency)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(h.path),
        "DAGSTER_DISABLE_TELEMETRY": "yes",
        # dagster-celery starts `celery` by name: the one beside this Python
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    typer.echo(f"DAGSTER_HOME={h.path} {' '.join(args[1:])}")
    os.execvpe(args[0], args, env)
