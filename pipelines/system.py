"""What differs between the operating systems tenken runs on (Linux, and Windows terminals).

Most terminals of the bodies that use tenken run Windows; tenken is developed and tested on
Linux. The few calls whose meaning differs live here, each with its Windows behaviour, and
``tests/test_portability.py`` refuses a POSIX-only call anywhere else.

- **Is a process alive?** ``os.kill(pid, 0)`` asks politely on POSIX but *terminates* the
  process on Windows (``TerminateProcess`` with exit code 0); psutil asks both correctly.
- **File modes.** 0600/0700 are set with ``os.chmod``/``os.fchmod`` on POSIX. On Windows
  ``chmod`` only toggles the read-only flag and ``os.fchmod`` does not exist before Python
  3.13: privacy there comes from the NTFS permissions the tenken home inherits from the user's
  profile folder (README "Windows"), so the mode calls are skipped rather than failing.
- **Durable renames.** A folder cannot be opened to ``fsync`` it on Windows; NTFS journals
  the rename itself.
- **Background priority.** ``os.nice`` is POSIX; psutil sets a Windows priority class.
"""

from __future__ import annotations

import os
import sys

import psutil

#: True on Windows, where POSIX file modes mean nothing
WINDOWS = sys.platform == "win32"


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (someone else's counts), on every OS."""
    return psutil.pid_exists(pid)


def set_private_mode(fd: int, mode: int) -> None:
    """Give an open file ``mode`` on POSIX; on Windows the folder's ACL applies instead."""
    if not WINDOWS:
        os.fchmod(fd, mode)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename into ``folder`` durable (POSIX); NTFS journals it (Windows)."""
    if WINDOWS:
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_in_background() -> None:
    """Lower this process's CPU priority: it then uses the cores the foreground leaves idle
    instead of taking them from it (POSIX nice 10; Windows "below normal")."""
    process = psutil.Process()
    process.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS if WINDOWS else 10)  # type: ignore[attr-defined,unused-ignore]
