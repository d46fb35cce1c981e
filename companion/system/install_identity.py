"""This computer's install identity: a random id made on first start, never in the image.

A computer made from a disk image must not share an identity with the computer the image
was taken from. The id is a random UUID kept in ``install-id.json`` in the state folder
(the service's ``/var/lib/timeback-companion``, or the per-user data folder), together with
a fingerprint of the operating system's machine id it was made on (an HMAC keyed by the
machine id, so the file does not reveal it). When the machine id differs (the image's copy
on a new computer, where the system made a new one on first boot) a new install id is made.
Nothing is made at install time, so a package in an image carries none.

Machine ids: ``/etc/machine-id`` (else ``/var/lib/dbus/machine-id``) on Linux,
``MachineGuid`` on Windows and ``IOPlatformUUID`` on macOS (those two untested here).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "install-id.json"
LINUX_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
# the fingerprint's purpose: this app's, so it matches no other program's use of the id
_PURPOSE = b"timeback-companion install identity"


def system_machine_id(platform: str = sys.platform) -> str | None:
    """The operating system's id of this installation, or None if it has none."""
    if platform.startswith("linux"):
        for where in LINUX_MACHINE_ID_FILES:
            try:
                text = where.read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError):
                continue
            if text:
                return text
        return None
    if platform == "win32":  # pragma: no cover - Windows only
        try:
            import winreg

            registry: Any = winreg  # its functions exist on Windows only
            with registry.OpenKey(
                registry.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography"
            ) as key:
                value, _ = registry.QueryValueEx(key, "MachineGuid")
                return str(value)
        except OSError:
            return None
    if platform == "darwin":  # pragma: no cover - macOS only
        try:
            out = subprocess.run(
                ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        for line in out.splitlines():
            if "IOPlatformUUID" in line:
                return line.split("=")[-1].strip().strip('"') or None
    return None


def fingerprint(machine_id: str | None) -> str:
    """What is stored about the machine id: an HMAC of this app's purpose, keyed by it."""
    if not machine_id:
        return ""
    return hmac.new(machine_id.encode("utf-8"), _PURPOSE, hashlib.sha256).hexdigest()


def install_id(
    folder: Path,
    machine_id: Callable[[], str | None] = system_machine_id,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> str:
    """This computer's install id, kept in ``folder``: made on the first call, and again
    when the machine id it was made on is not this computer's."""
    where = folder / FILE_NAME
    current = fingerprint(machine_id())
    try:
        stored = json.loads(where.read_text(encoding="utf-8"))
        if (
            isinstance(stored, dict)
            and isinstance(stored.get("install_id"), str)
            and stored.get("machine") == current
        ):
            return str(stored["install_id"])
        log.info(
            "install id in %s was made on another computer (or is unreadable): making a new one",
            where,
        )
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        log.info("install id in %s is unreadable: making a new one", where)
    made = new_id()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = where.with_name(where.name + ".tmp")
    temporary.write_text(
        json.dumps({"install_id": made, "machine": current}) + "\n", encoding="utf-8"
    )
    os.replace(temporary, where)
    return made
