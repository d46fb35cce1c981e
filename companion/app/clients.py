"""The process's Timeback clients (``companion.sync.clients``, shared with the service)."""

from companion.sync.clients import SharedOneRosterClient, TimebackClients

__all__ = ["SharedOneRosterClient", "TimebackClients"]
