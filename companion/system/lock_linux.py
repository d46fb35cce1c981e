"""Screen lock on Linux over D-Bus (jeepney): logind's ``LockedHint`` and the screen saver.

Two sources, asked once per sampler tick with a short timeout:

- ``LogindLock``: the ``LockedHint`` property of our session on the system bus
  (``org.freedesktop.login1``), which GNOME, KDE and other lockers set while locked;
- ``ScreenSaverLock``: ``GetActive`` of the freedesktop ``org.freedesktop.ScreenSaver``
  interface (KDE, Xfce, ...) or GNOME's ``org.gnome.ScreenSaver`` on the session bus.

``LinuxLock`` says locked when any of them does (a blanked screen saver means nobody is
working either). A service that stops answering is dropped; with none left the screen
counts as unlocked, as with ``NoLockSensing``. ``DBusLink`` is the small blocking D-Bus
client the Linux sources share.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from typing import Any

from companion.system.select import SourceFailed
from companion.system.sensing import LockSource

log = logging.getLogger("companion.system")

CALL_TIMEOUT_S = 0.25
LOGIN1 = "org.freedesktop.login1"


class DBusLink:
    """A blocking jeepney connection to one bus (``SESSION``, ``SYSTEM`` or an address)."""

    def __init__(self, bus: str = "SESSION", timeout_s: float = CALL_TIMEOUT_S) -> None:
        """Connect; ``SourceFailed`` when jeepney or the bus is missing."""
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError as exc:
            raise SourceFailed(f"jeepney is not installed: {exc}") from exc
        self.timeout_s = timeout_s
        try:
            self._conn: Any = open_dbus_connection(bus=bus)
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise SourceFailed(f"cannot connect to the {bus} D-Bus: {exc}") from exc

    def call(
        self,
        bus_name: str,
        path: str,
        interface: str,
        method: str,
        signature: str | None = None,
        body: tuple[Any, ...] = (),
    ) -> Any:
        """Call a method and return the first value of its reply; ``SourceFailed`` on any
        D-Bus error, timeout or closed connection."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        address = DBusAddress(path, bus_name=bus_name, interface=interface)
        message = new_method_call(address, method, signature, body)
        try:
            reply = self._conn.send_and_get_reply(message, timeout=self.timeout_s)
            values = unwrap_msg(reply)
        except DBusErrorResponse as exc:
            raise SourceFailed(f"{bus_name} {method}: {exc.name}") from exc
        except (OSError, TimeoutError, ValueError) as exc:
            raise SourceFailed(f"{bus_name} {method}: {type(exc).__name__} {exc}") from exc
        return values[0] if values else None

    def get_property(self, bus_name: str, path: str, interface: str, name: str) -> Any:
        """A property's value (the variant unwrapped)."""
        variant = self.call(
            bus_name,
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            "ss",
            (interface, name),
        )
        return variant[1]

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self._conn.close()


class LogindLock(LockSource):
    """logind's ``LockedHint`` of this login session."""

    name = "logind"

    def __init__(self, bus: str = "SYSTEM", session_id: str | None = None) -> None:
        """Find our session (``$XDG_SESSION_ID`` or logind's ``auto``); ``SourceFailed``
        when logind does not answer."""
        self._link = DBusLink(bus)
        sid = session_id if session_id is not None else os.environ.get("XDG_SESSION_ID")
        try:
            if sid:
                self.path = str(
                    self._link.call(
                        LOGIN1,
                        "/org/freedesktop/login1",
                        f"{LOGIN1}.Manager",
                        "GetSession",
                        "s",
                        (sid,),
                    )
                )
            else:
                self.path = "/org/freedesktop/login1/session/auto"
            self.read()
        except SourceFailed:
            self._link.close()
            raise

    def read(self) -> bool:
        """``LockedHint`` now; ``SourceFailed`` when logind does not answer."""
        return bool(self._link.get_property(LOGIN1, self.path, f"{LOGIN1}.Session", "LockedHint"))

    def locked(self) -> bool:
        """``read()``, or False when logind does not answer."""
        try:
            return self.read()
        except SourceFailed:
            return False

    def close(self) -> None:
        """Close the D-Bus connection."""
        self._link.close()


SCREENSAVERS = (
    ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
)


class ScreenSaverLock(LockSource):
    """``GetActive`` of the first screen-saver service that answers on the session bus."""

    name = "screensaver"

    def __init__(self, bus: str = "SESSION") -> None:
        """Find a screen-saver service; ``SourceFailed`` when none answers."""
        self._link = DBusLink(bus)
        errors = []
        for service in SCREENSAVERS:
            self.service = service
            try:
                self.read()
                return
            except SourceFailed as exc:
                errors.append(str(exc))
        self._link.close()
        raise SourceFailed("no screen saver service: " + "; ".join(errors))

    def read(self) -> bool:
        """``GetActive`` now; ``SourceFailed`` when the service does not answer."""
        bus_name, path, interface = self.service
        return bool(self._link.call(bus_name, path, interface, "GetActive"))

    def locked(self) -> bool:
        """``read()``, or False when the service does not answer."""
        try:
            return self.read()
        except SourceFailed:
            return False

    def close(self) -> None:
        """Close the D-Bus connection."""
        self._link.close()


class LinuxLock(LockSource):
    """Locked when any of its sources says so; a source that stops answering is dropped."""

    def __init__(self, sources: Sequence[LogindLock | ScreenSaverLock]) -> None:
        """Ask ``sources`` (already open)."""
        self.sources = list(sources)

    @property
    def in_use(self) -> list[str]:
        """The names of the sources still answering."""
        return [s.name for s in self.sources]

    def locked(self) -> bool:
        """Whether any source reports the screen locked."""
        result = False
        for source in list(self.sources):
            try:
                result = source.read() or result
            except SourceFailed as exc:
                log.warning("lock source %s stopped: %s", source.name, exc)
                source.close()
                self.sources.remove(source)
        return result


def open_source(system_bus: str = "SYSTEM", session_bus: str = "SESSION") -> LinuxLock:
    """Every Linux lock source that answers; ``SourceFailed`` when none does."""
    sources: list[LogindLock | ScreenSaverLock] = []
    errors = []
    for make in (lambda: LogindLock(system_bus), lambda: ScreenSaverLock(session_bus)):
        try:
            sources.append(make())
        except SourceFailed as exc:
            errors.append(str(exc))
    if not sources:
        raise SourceFailed("; ".join(errors))
    return LinuxLock(sources)
