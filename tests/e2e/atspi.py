"""Reading a running app's windows from outside, through its accessibility tree (AT-SPI).

Qt publishes every widget over AT-SPI on Linux (``QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1``
makes it do so without a screen reader). This client speaks the D-Bus protocol with
jeepney: it asks the session bus for the accessibility bus, finds the application by its
process id, and walks the tree of what is showing: role, name (a label's or button's text),
description, text of editable fields, and the on-screen rectangle for clicking.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field

from jeepney import DBusAddress, MessageType, Properties, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

ACCESSIBLE = "org.a11y.atspi.Accessible"
ROOT = "/org/a11y/atspi/accessible/root"
STATE_SHOWING = 25
STATE_FOCUSED = 12
STATE_SENSITIVE = 24


class AtSpiError(Exception):
    """The accessibility bus or the application did not answer as expected."""


@dataclass
class Node:
    """One accessible object that is showing on the screen."""

    role: str
    name: str
    description: str
    text: str
    states: frozenset[int]
    extents: tuple[int, int, int, int]  # x, y, width, height on the screen
    children: list[Node] = field(default_factory=list)

    @property
    def focused(self) -> bool:
        return STATE_FOCUSED in self.states

    @property
    def enabled(self) -> bool:
        return STATE_SENSITIVE in self.states

    @property
    def center(self) -> tuple[int, int]:
        x, y, w, h = self.extents
        return x + w // 2, y + h // 2

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def words(self) -> str:
        """Everything this subtree says, one node a line (for failure messages)."""
        return "\n".join(
            f"{n.role}: {n.name!r}" + (f" [{n.description}]" if n.description else "")
            + (f" text={n.text!r}" if n.text else "")
            for n in self.walk() if n.name or n.text
        )


class AtSpi:
    """A connection to the accessibility bus of the session bus at ``session_address``."""

    def __init__(self, session_address: str) -> None:
        session = open_dbus_connection(bus=session_address)
        try:
            bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
            reply = session.send_and_get_reply(new_method_call(bus, "GetAddress"), timeout=10)
            if reply.header.message_type is MessageType.error:
                raise AtSpiError(f"no accessibility bus: {reply.body}")
            self._conn: DBusConnection = open_dbus_connection(bus=reply.body[0])
            self.errors: list[str] = []
        finally:
            session.close()

    def close(self) -> None:
        self._conn.close()

    def _call(self, bus: str, path: str, interface: str, method: str,
              signature: str | None = None, args: tuple[object, ...] = ()) -> tuple[object, ...]:
        address = DBusAddress(path, bus_name=bus, interface=interface)
        reply = self._conn.send_and_get_reply(
            new_method_call(address, method, signature, args), timeout=10)
        if reply.header.message_type is MessageType.error:
            raise AtSpiError(f"{interface}.{method} on {bus}{path}: {reply.body}")
        return tuple(reply.body)

    def _prop(self, bus: str, path: str, interface: str, name: str) -> object:
        address = DBusAddress(path, bus_name=bus, interface=interface)
        reply = self._conn.send_and_get_reply(Properties(address).get(name), timeout=10)
        if reply.header.message_type is MessageType.error:
            raise AtSpiError(f"{interface}.{name} on {bus}{path}: {reply.body}")
        return reply.body[0][1]

    def registry_ready(self) -> None:
        """Raise ``AtSpiError`` unless the registry (started on demand) answers."""
        self._call("org.a11y.atspi.Registry", ROOT, ACCESSIBLE, "GetChildren")

    def application_bus(self, pid: int) -> str | None:
        """The accessibility bus name of the application with process id ``pid``."""
        dbus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                           interface="org.freedesktop.DBus")
        names = self._conn.send_and_get_reply(new_method_call(dbus, "ListNames")).body[0]
        for name in names:
            if not name.startswith(":"):
                continue
            reply = self._conn.send_and_get_reply(
                new_method_call(dbus, "GetConnectionUnixProcessID", "s", (name,)))
            if reply.header.message_type is not MessageType.error and reply.body[0] == pid:
                try:
                    self._prop(name, ROOT, ACCESSIBLE, "Name")
                except AtSpiError:
                    continue
                return str(name)
        return None

    def tree(self, bus: str) -> Node:
        """What the application at ``bus`` shows now (hidden subtrees are left out);
        ``errors`` says what could not be read."""
        self.errors = []
        return self._node(bus, ROOT, 0) or Node("application", "", "", "", frozenset(),
                                               (0, 0, 0, 0))

    def _node(self, bus: str, path: str, depth: int) -> Node | None:
        """The node at ``path`` and what of it shows; None if hidden or gone (the screen
        changes while it is read: a part that vanished meanwhile is left out)."""
        try:
            low, high = self._call(bus, path, ACCESSIBLE, "GetState")[0]  # type: ignore[misc]
        except AtSpiError as exc:
            self.errors.append(str(exc))
            return None
        states = frozenset(i for i in range(64) if (low | (high << 32)) >> i & 1)
        if depth > 0 and STATE_SHOWING not in states:
            return None
        try:
            interfaces = set(self._call(bus, path, ACCESSIBLE, "GetInterfaces")[0])  # type: ignore[arg-type]
            role = str(self._call(bus, path, ACCESSIBLE, "GetRoleName")[0])
            name = str(self._prop(bus, path, ACCESSIBLE, "Name"))
            description = str(self._prop(bus, path, ACCESSIBLE, "Description"))
        except AtSpiError as exc:
            self.errors.append(str(exc))
            return None
        text = ""
        extents = (0, 0, 0, 0)
        with suppress(AtSpiError):
            if "org.a11y.atspi.Text" in interfaces:
                count = self._prop(bus, path, "org.a11y.atspi.Text", "CharacterCount")
                if isinstance(count, int) and count > 0:
                    text = str(self._call(bus, path, "org.a11y.atspi.Text", "GetText", "ii",
                                          (0, count))[0])
            if "org.a11y.atspi.Component" in interfaces:
                got = self._call(bus, path, "org.a11y.atspi.Component", "GetExtents", "u",
                                 (0,))[0]
                extents = tuple(int(v) for v in got)  # type: ignore[union-attr, assignment]
        node = Node(role=role, name=name, description=description, text=text, states=states,
                    extents=extents)
        if depth < 40:
            try:
                children = self._call(bus, path, ACCESSIBLE, "GetChildren")[0]
            except AtSpiError:
                children = []
            for child_bus, child_path in children:  # type: ignore[union-attr]
                child = self._node(child_bus, child_path, depth + 1)
                if child is not None:
                    node.children.append(child)
        return node
