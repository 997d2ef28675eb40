"""What the operating system says about processes, the same way on Linux and Windows.

``os.kill(pid, 0)`` asks "is it alive?" on POSIX but *terminates* the process on Windows
(any signal number there means TerminateProcess), so tenken asks psutil instead.
"""

from __future__ import annotations

import psutil


def process_alive(pid: int) -> bool:
    """True while a process with this id exists (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # someone else's process: alive
