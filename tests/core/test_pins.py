"""PINs: validation, salted scrypt hashes, verification and the lockout schedule."""

from __future__ import annotations

from itertools import pairwise

import pytest

from companion.core.pins import (
    FREE_ATTEMPTS,
    MAX_LOCKOUT_S,
    PinHash,
    hash_pin,
    lockout_seconds,
    remaining_attempts,
    valid_pin,
    verify_pin,
)


@pytest.mark.parametrize("pin", ["1234", "12345", "000000"])
def test_valid_pins(pin: str) -> None:
    assert valid_pin(pin)


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", " 1234", "١٢٣٤", 1234, None])
def test_invalid_pins(pin: object) -> None:
    assert not valid_pin(pin)


def test_hash_and_verify_with_default_parameters() -> None:
    stored = hash_pin("4821")
    assert (stored.n, stored.r, stored.p) == (2**14, 8, 1)
    assert len(stored.salt) == 16 and len(stored.hash) == 32
    assert verify_pin("4821", stored)
    assert not verify_pin("4822", stored)


def test_each_hash_has_its_own_salt() -> None:
    a, b = hash_pin("1234", n=16, r=1, p=1), hash_pin("1234", n=16, r=1, p=1)
    assert a.salt != b.salt and a.hash != b.hash
    assert verify_pin("1234", a) and verify_pin("1234", b)


def test_parameters_stored_with_the_hash_are_used_to_verify() -> None:
    stored = hash_pin("2468", salt=b"s" * 16, n=16, r=1, p=1)
    assert stored == hash_pin("2468", salt=b"s" * 16, n=16, r=1, p=1)
    assert stored != hash_pin("2468", salt=b"s" * 16, n=2**5, r=1, p=1)
    assert verify_pin("2468", PinHash(stored.salt, stored.hash, stored.n, stored.r, stored.p))
    # the same bytes read with other parameters do not match
    assert not verify_pin("2468", PinHash(stored.salt, stored.hash, 2**5, 1, 1))


def test_hash_refuses_an_invalid_pin_and_verify_rejects_one() -> None:
    with pytest.raises(ValueError):
        hash_pin("12")
    assert not verify_pin("12", hash_pin("1234", n=16, r=1, p=1))


def test_lockout_starts_after_the_free_attempts_and_grows_to_a_cap() -> None:
    waits = [lockout_seconds(n) for n in range(0, 20)]
    assert waits[:FREE_ATTEMPTS] == [0] * FREE_ATTEMPTS
    assert waits[FREE_ATTEMPTS] == 30
    assert waits[FREE_ATTEMPTS + 1] == 60
    growing = waits[FREE_ATTEMPTS:]
    assert all(a <= b for a, b in pairwise(growing))
    assert max(waits) == MAX_LOCKOUT_S == waits[-1]
    assert lockout_seconds(10_000) == MAX_LOCKOUT_S


def test_remaining_attempts() -> None:
    assert [remaining_attempts(n) for n in range(7)] == [5, 4, 3, 2, 1, 0, 0]
