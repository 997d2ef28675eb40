"""`tenken ui` listens on 127.0.0.1 only, and the instance it opens has telemetry off.

The UI is started for real (``dagster dev`` behind ``tenken ui``) on a free port, in its own
session so it can be stopped cleanly (stack-facts §2: SIGINT restored, then SIGTERM to the
session). Every listening socket of that session — webserver, daemon, code server — is read
from /proc and must be bound to the loopback address.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from assets.instance import ensure_home

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LISTEN = "0A"
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc writes them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_pids(sid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # field 6 of /proc/<pid>/stat: the session id
                pids.append(int(entry.name))
    return pids


def listening(pids: list[int]) -> list[tuple[str, int]]:
    """(local address as /proc writes it, port) of every listening TCP socket of ``pids``."""
    inodes = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            links = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            address, port = cols[1].split(":")
            if cols[3] == LISTEN and cols[9] in inodes:
                found.append((address, int(port, 16)))
    return found


def test_ui_listens_on_loopback_only(tmp_path: Path) -> None:
    from assets.instance import ensure_home

    ensure_home(tmp_path / "home")  # `tenken ui` refuses a home that does not exist (issue 13.5)
    port = free_port()
    log = (tmp_path / "ui.log").open("w")
    ui = subprocess.Popen(
        [sys.executable, "-m", "tenken", "ui", "--home", str(tmp_path / "home"), "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # dagster maps SIGTERM onto its SIGINT handler; an inherited "ignore SIGINT" would
        # make it unstoppable (stack-facts §2)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        sockets: list[tuple[str, int]] = []
        deadline = time.monotonic() + 120  # a wait for start-up, not a timing assertion
        while time.monotonic() < deadline and ui.poll() is None:
            sockets = listening(session_pids(ui.pid))
            if any(p == port for _, p in sockets):
                break
            time.sleep(0.5)
        assert any(p == port for _, p in sockets), (tmp_path / "ui.log").read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=30) as response:
            assert response.status == 200
        sockets = listening(session_pids(ui.pid))
        assert sockets and all(address in LOOPBACK for address, _ in sockets), sockets
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
        log.close()


def test_a_new_home_has_telemetry_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(
        "DAGSTER_DISABLE_TELEMETRY", raising=False
    )  # the home's dagster.yaml alone must say so
    home = ensure_home(tmp_path / "home")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()
