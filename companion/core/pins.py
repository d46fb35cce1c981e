"""PINs: validation, salted scrypt hashes, constant-time checks and the lockout schedule.

Each hash carries its own random salt and the scrypt parameters it was made with, so the
parameters can be raised later without invalidating stored PINs. Cost: with the defaults
(n=2**14, r=8, p=1) one hash takes about 16 MiB and a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 6
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
HASH_BYTES = 32
SALT_BYTES = 16
FREE_ATTEMPTS = 5  # failures before the first lockout
BASE_LOCKOUT_S = 30
MAX_LOCKOUT_S = 3600


@dataclass(frozen=True, slots=True)
class PinHash:
    """A stored PIN: salt, scrypt output and the parameters that produced it."""

    salt: bytes
    hash: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P


def valid_pin(pin: object) -> bool:
    """True for a string of 4 to 6 ASCII digits."""
    return (
        isinstance(pin, str)
        and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS
        and all("0" <= ch <= "9" for ch in pin)
    )


def new_salt() -> bytes:
    """Random bytes from the operating system's generator."""
    return secrets.token_bytes(SALT_BYTES)


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=HASH_BYTES
    )


def hash_pin(
    pin: str, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> PinHash:
    """The salted scrypt hash of a valid PIN; ValueError for an invalid one."""
    if not valid_pin(pin):
        raise ValueError("a PIN is 4 to 6 digits")
    salt = new_salt() if salt is None else salt
    return PinHash(salt=salt, hash=_scrypt(pin, salt, n, r, p), n=n, r=r, p=p)


def verify_pin(pin: str, stored: PinHash) -> bool:
    """Whether ``pin`` matches ``stored`` (constant-time comparison of the hashes)."""
    if not valid_pin(pin):
        return False
    candidate = _scrypt(pin, stored.salt, stored.n, stored.r, stored.p)
    return hmac.compare_digest(candidate, stored.hash)


def lockout_seconds(failures: int) -> int:
    """How long sign-in is refused after ``failures`` consecutive failures.

    No lockout for the first ``FREE_ATTEMPTS - 1`` failures; then 30 s, doubling with each
    further failure, at most an hour.
    """
    if failures < FREE_ATTEMPTS:
        return 0
    extra = failures - FREE_ATTEMPTS
    if extra >= 8:
        return MAX_LOCKOUT_S
    return min(BASE_LOCKOUT_S << extra, MAX_LOCKOUT_S)


def remaining_attempts(failures: int) -> int:
    """Failures left before the next lockout begins (0 once locking has started)."""
    return max(FREE_ATTEMPTS - failures, 0)
