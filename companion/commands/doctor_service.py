"""``companion doctor``'s line about the machine service: what this account may know of it.

The service answers ``status`` in full only to an administrator (root or its own account):
then the line shows its version, its outbox by state, whether the organisation's credentials
are in its machine store (never their value) and whether delivery runs. To anyone else it
says that the service is reachable and which version it is, and nothing of the outbox or
the credentials; the service decides that by the caller's OS account, not the doctor.

The line is shown when a machine service is there to check: ``--socket`` given, or the
service's socket (``/run/timeback-companion/service.sock``) present and the data and config
folders not redirected (with ``COMPANION_DATA_DIR``/``COMPANION_CONFIG_DIR`` the app hosts
the service in-process on those folders).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from companion.commands.doctor import CheckResult, DoctorContext
from companion.service.client import (
    ServiceClient,
    ServiceRefused,
    ServiceUnavailable,
    VersionMismatch,
    unix_socket,
)

NAME = "machine service"
DEFAULT_SOCKET = Path("/run/timeback-companion/service.sock")
OUTBOX_STATES = ("pending", "in_flight", "settling", "held", "refused", "delivered")


def service_socket(given: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The socket to check, or None when this computer has no machine service to check."""
    if given is not None:
        return given
    source = os.environ if environ is None else environ
    if source.get("COMPANION_DATA_DIR") or source.get("COMPANION_CONFIG_DIR"):
        return None
    return DEFAULT_SOCKET if DEFAULT_SOCKET.exists() else None


def check_service(ctx: DoctorContext) -> CheckResult:
    """The machine service answers on its socket, and what it tells this account."""
    socket_path = ctx.service_socket
    if socket_path is None:
        return CheckResult(NAME, True, "none on this computer (the app hosts it)", info=True)
    client = ServiceClient(unix_socket(socket_path, timeout_s=5.0), client_name="doctor")
    try:
        status = client.request("status")
    except VersionMismatch as exc:
        return CheckResult(NAME, False, exc.message, "install the same version of the app")
    except ServiceUnavailable as exc:
        return CheckResult(
            NAME,
            False,
            f"not reachable at {socket_path}: {exc}",
            "is it running? `systemctl status timeback-companion` (as an administrator)",
        )
    except ServiceRefused as exc:
        return CheckResult(NAME, False, f"{socket_path}: {exc.message}", "see the service's log")
    finally:
        client.close()
    return CheckResult(NAME, True, describe(socket_path, status))


def describe(socket_path: Path, status: Mapping[str, Any]) -> str:
    """The line's detail from the service's ``status`` answer."""
    head = (
        f"{status.get('service') or 'timeback-companion'} (protocol {status.get('protocol')}) "
        f"reachable at {socket_path}"
    )
    if not status.get("administrator"):
        return f"{head}; its outbox and credentials are shown to an administrator only"
    counts = status.get("outbox") or {}
    outbox = ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in OUTBOX_STATES)
    env = status.get("environment")
    if env == "sandbox":
        credentials = "built in (sandbox)"
    elif status.get("credentialsPresent"):
        credentials = "present in the machine store"
    else:
        credentials = f"missing: run `companion --env {env} setup --machine`"
    delivery = "running" if status.get("deliveryConfigured") else "not configured"
    return (
        f"{head}; {env} environment, {status.get('openRuns', 0)} open run(s); outbox: "
        f"{outbox}; credentials: {credentials}; delivery: {delivery}"
    )
