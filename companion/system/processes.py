"""Whether a process of this computer still exists: its pid and when it started.

A pid alone is not an identity (the system reuses pids, and a restart starts counting
again), so a process is named by its pid and a *start token*: on Linux the boot id
(``/proc/sys/kernel/random/boot_id``), the pid namespace it is seen from, and the start
time in clock ticks since boot (``/proc/PID/stat`` field 22), which together never
repeat. Elsewhere there is no token and only the pid is checked (``os.kill(pid, 0)`` on
POSIX); on Windows nothing is known and the answer is always "maybe alive", so callers
fall back to their timeouts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROC = Path("/proc")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _stat_fields(pid: int, proc: Path) -> list[str] | None:
    """The fields of /proc/PID/stat from field 3 (state) on, or None if there is none.

    Field 2 is the command name in parentheses, which may itself hold spaces and
    parentheses, so the fields after it are split after its last ``)``.
    """
    text = _read(proc / str(pid) / "stat")
    if text is None or ")" not in text:
        return None
    return text.rpartition(")")[2].split()


def _pid_namespace(proc: Path) -> str:
    """This process's pid namespace (``pid:[4026531836]``), or "" if it cannot be read."""
    try:
        return os.readlink(proc / "self" / "ns" / "pid")
    except OSError:
        return ""


def start_token(pid: int, proc: Path = PROC) -> str | None:
    """``"<boot id> <pid namespace> <start ticks>"`` of process ``pid`` (as this process
    sees it), or None where it cannot be known."""
    boot = _read(proc / "sys" / "kernel" / "random" / "boot_id")
    fields = _stat_fields(pid, proc)
    if boot is None or fields is None or len(fields) < 20:
        return None
    namespace = _pid_namespace(proc) or "-"
    return f"{boot.strip()} {namespace} {fields[19]}"  # field 22 is the 20th after the name


def is_gone(pid: int, token: str | None, proc: Path = PROC, platform: str = sys.platform) -> bool:
    """True only when process ``pid`` (started as ``token``) surely no longer exists.

    With a token (Linux): gone when the computer restarted since (another boot id), when
    no process has that pid, when the pid's start time differs (the pid was reused) or when
    it is a zombie; a process of another pid namespace (a container or a Flatpak beside
    us) cannot be checked, and counts as not gone. Without a token, on POSIX: gone when no
    process has that pid. Anything unknown (no /proc, Windows) counts as not gone.
    """
    if pid <= 0:
        return False
    if token is not None and (proc / "self").exists():
        parts = token.split(" ")
        if len(parts) != 3:
            return False
        boot, namespace, ticks = parts
        current = _read(proc / "sys" / "kernel" / "random" / "boot_id")
        if current is None:
            return False
        if current.strip() != boot:
            return True
        if namespace != (_pid_namespace(proc) or "-"):
            return False
        fields = _stat_fields(pid, proc)
        if fields is None:
            return True
        return fields[0] == "Z" or (len(fields) >= 20 and fields[19] != ticks)
    if platform == "win32":
        return False  # os.kill would end the process there; no cheap check
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (PermissionError: another user's process)
    return False


class ThisComputer:
    """`start_token` and `is_gone` for this computer's processes, as one object (the
    ``ProcessProbe`` the store's lease is given)."""

    def start_token(self, pid: int) -> str | None:
        """See the module function."""
        return start_token(pid)

    def is_gone(self, pid: int, token: str | None) -> bool:
        """See the module function."""
        return is_gone(pid, token)
