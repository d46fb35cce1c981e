"""A local Timeback-compatible server: OAuth2 token, OneRoster 1.2 rostering, Caliper ingestion.

It is the app's default backend when nothing is configured, and every test's backend. It is
written from the references alone and never imports the app's own clients, store or core, so
that a misreading shared by client and server cannot pass unnoticed.

Public entry points: :func:`companion.sandbox.server.start_in_thread` (embedded, for tests and
the app) and :func:`companion.sandbox.server.serve` (the ``companion sandbox`` command).
"""

DEMO_CLIENT_ID = "sandbox-client"
DEMO_CLIENT_SECRET = "sandbox-secret"

__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET"]
