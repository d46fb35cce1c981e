"""Where the app's data and rules live: in this process (today's path), or in this
computer's machine service, reached over its socket. The one place the root chooses.

The service is used when ``COMPANION_SERVICE_SOCKET`` names its socket, or when the
machine's socket exists and neither ``COMPANION_DATA_DIR`` nor ``COMPANION_CONFIG_DIR`` is
set (those mean a copied data folder, worked on in this process, as the issue asks).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# where `companion service` listens under systemd (companion.commands.service.DEFAULT_SOCKET)
MACHINE_SOCKET = Path("/run/timeback-companion/service.sock")
SOCKET_VARIABLE = "COMPANION_SERVICE_SOCKET"


def service_socket(
    environ: Mapping[str, str] | None = None, machine_socket: Path = MACHINE_SOCKET
) -> Path | None:
    """The service's socket the app should use, or None for the in-process path."""
    env = os.environ if environ is None else environ
    named = env.get(SOCKET_VARIABLE)
    if named:
        return Path(named)
    if env.get("COMPANION_DATA_DIR") or env.get("COMPANION_CONFIG_DIR"):
        return None
    return machine_socket if machine_socket.exists() else None
