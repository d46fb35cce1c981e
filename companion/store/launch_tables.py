"""The table of single-use values for launches and sign-ins (OIDC ``state`` and ``nonce``).

A row is written when the app starts a login (LTI login initiation or Sign in with
Timeback) and marked used the first time a response presents it, so a replayed launch is
refused also after the app restarts. ``companion.store.db`` imports this module so that
``create_all`` creates the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from companion.store.tables import UtcDateTime


class LaunchNonce(SQLModel, table=True):
    """One login attempt: its state, its nonce, when it expires and when it was used."""

    __tablename__ = "launch_nonces"

    state: str = Field(primary_key=True)
    nonce: str = Field(index=True, unique=True)
    purpose: str = "lti"  # "lti" (LTI launch) or "signin" (Sign in with Timeback)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # What the response needs besides the nonce, as JSON (e.g. target_link_uri, PKCE verifier).
    data_json: str = "{}"
