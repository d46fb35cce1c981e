"""Input activity on GNOME (X11 or Wayland): Mutter's idle monitor over D-Bus.

``GetIdletime`` of ``org.gnome.Mutter.IdleMonitor`` on the session bus returns the
milliseconds since the last user input, on the compositor's monotonic clock. It is the
one idle source that works under GNOME on Wayland, where X11 and pynput see only XWayland
clients. Only the idle time is read; nothing about keys.
"""

from __future__ import annotations

from companion.core.clock import Clock
from companion.system.lock_linux import DBusLink
from companion.system.select import IdleTimeInput

BUS_NAME = "org.gnome.Mutter.IdleMonitor"
PATH = "/org/gnome/Mutter/IdleMonitor/Core"
INTERFACE = "org.gnome.Mutter.IdleMonitor"


class GnomeIdleMonitor:
    """A session-bus link to Mutter's idle monitor."""

    def __init__(self, bus: str = "SESSION") -> None:
        """Connect and ask once; ``SourceFailed`` when the idle monitor does not answer."""
        self._link = DBusLink(bus)
        try:
            self.idle_ms()
        except Exception:
            self._link.close()
            raise

    def idle_ms(self) -> int:
        """Milliseconds since the last input; ``SourceFailed`` when Mutter does not answer."""
        return int(self._link.call(BUS_NAME, PATH, INTERFACE, "GetIdletime"))

    def close(self) -> None:
        """Close the D-Bus connection."""
        self._link.close()


def open_source(clock: Clock, bus: str = "SESSION") -> IdleTimeInput:
    """The GNOME idle-monitor input source; ``SourceFailed`` outside GNOME."""
    monitor = GnomeIdleMonitor(bus)
    return IdleTimeInput("gnome-idle-monitor", monitor.idle_ms, clock, close=monitor.close)
