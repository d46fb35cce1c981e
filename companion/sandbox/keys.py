"""The sandbox platform's signing keys: RSA 2048 with a kid, rotatable at run time.

After a rotation the new key signs and the previous one stays published for a while, as
real platforms do, so tokens signed just before the rotation still verify.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_BITS = 2048
PUBLISHED_KEYS = 2


def _new_key() -> RSAKey:
    kid = f"sandbox-{secrets.token_hex(6)}"
    return RSAKey.generate_key(KEY_BITS, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class PlatformKeys:
    """The current signing key and the recently retired ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[RSAKey] = [_new_key()]  # newest first

    @property
    def current_kid(self) -> str:
        """The kid of the key that signs now."""
        with self._lock:
            return str(self._keys[0].kid)

    def rotate(self) -> str:
        """Make a new signing key; returns its kid."""
        key = _new_key()
        with self._lock:
            self._keys = [key, *self._keys][:PUBLISHED_KEYS]
        return str(key.kid)

    def jwks(self) -> dict[str, Any]:
        """The public key set."""
        with self._lock:
            return {"keys": [k.as_dict(private=False) for k in self._keys]}

    def sign(self, claims: dict[str, Any], *, wrong_key: bool = False) -> str:
        """A compact RS256 JWS of ``claims`` with the current kid.

        ``wrong_key`` signs with a throw-away key under the current kid (a forged token).
        """
        with self._lock:
            key = self._keys[0]
        signer = _new_key() if wrong_key else key
        header = {"alg": "RS256", "kid": str(key.kid), "typ": "JWT"}
        return jwt.encode(header, claims, signer, algorithms=["RS256"])
