"""The platform's public keys: fetched from its key-set URL, cached, refetched on a new kid.

Only RSA keys of at least 2048 bits are used. The modulus size is read from the JWK before
the key is handed to the JOSE library, so a short key is refused with its own reason.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Mapping
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from companion.launch.reasons import LaunchRefused, Refusal

log = logging.getLogger("companion.launch")

MIN_RSA_BITS = 2048


def modulus_bits(jwk: Mapping[str, Any]) -> int:
    """The size in bits of an RSA JWK's modulus ``n`` (0 if it has none)."""
    n = jwk.get("n")
    if not isinstance(n, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (ValueError, TypeError):
        return 0
    return int.from_bytes(raw, "big").bit_length()


def import_rsa_key(jwk: Mapping[str, Any], min_bits: int = MIN_RSA_BITS) -> RSAKey:
    """An RSA public key from a JWK; refused if it is not RSA or shorter than ``min_bits``."""
    kid = jwk.get("kid")
    if jwk.get("kty") != "RSA":
        raise LaunchRefused(Refusal.BAD_ALGORITHM, f"key {kid!r} is not an RSA key")
    bits = modulus_bits(jwk)
    if bits < min_bits:
        raise LaunchRefused(Refusal.KEY_TOO_SMALL,
                            f"key {kid!r} has {bits} bits; at least {min_bits} are required")
    try:
        return RSAKey.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError) as exc:
        raise LaunchRefused(Refusal.KEY_SET_UNAVAILABLE,
                            f"key {kid!r} in the key set is unusable: {exc}") from exc


class KeySetCache:
    """The key set at ``url``, cached; an unknown kid makes it fetch the set again once."""

    def __init__(self, url: str, client: httpx.Client, min_bits: int = MIN_RSA_BITS) -> None:
        self.url = url
        self._client = client
        self._min_bits = min_bits
        self._keys: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key_for(self, kid: str) -> RSAKey:
        """The public key with ``kid``; refused if unknown after one refetch or unusable."""
        with self._lock:
            if self._keys is None or kid not in self._keys:
                self._keys = self._fetch()
            jwk = self._keys.get(kid)
        if jwk is None:
            raise LaunchRefused(Refusal.UNKNOWN_KID,
                                f"the platform's key set has no key {kid!r}")
        return import_rsa_key(jwk, self._min_bits)

    def _fetch(self) -> dict[str, dict[str, Any]]:
        self.fetches += 1
        try:
            response = self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not fetch the platform key set from %s: %s", self.url, exc)
            raise LaunchRefused(Refusal.KEY_SET_UNAVAILABLE,
                                "the platform's key set could not be fetched") from exc
        return keys_by_kid(body)


def keys_by_kid(body: object) -> dict[str, dict[str, Any]]:
    """The keys of a JWKS document by kid (keys without a kid are ignored)."""
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list):
        raise LaunchRefused(Refusal.KEY_SET_UNAVAILABLE, "the platform's key set is not a JWKS")
    return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}


class StaticKeySet:
    """A fixed key set (tests, or a platform that publishes its keys out of band)."""

    def __init__(self, jwks: Mapping[str, Any], min_bits: int = MIN_RSA_BITS) -> None:
        self._keys = keys_by_kid(dict(jwks))
        self._min_bits = min_bits

    def key_for(self, kid: str) -> RSAKey:
        """The key with ``kid``; refused if unknown or unusable."""
        jwk = self._keys.get(kid)
        if jwk is None:
            raise LaunchRefused(Refusal.UNKNOWN_KID, f"the key set has no key {kid!r}")
        return import_rsa_key(jwk, self._min_bits)
