"""The production argon2 cost: the suite's in-process app hashes cheaply (tests/conftest.py), production never."""

from argon2 import PasswordHasher, extract_parameters, profiles

from mla.users import credentials
from tests.conftest import CHEAP_ARGON2


def test_production_passwords_are_hashed_with_the_rfc_9106_low_memory_profile(
    cheap_password_hashing: PasswordHasher,
) -> None:
    production = cheap_password_hashing

    assert extract_parameters(production.hash("a password")) == profiles.RFC_9106_LOW_MEMORY
    assert production.time_cost == 3 and production.memory_cost == 64 * 1024 and production.parallelism == 4


def test_the_cheap_test_hasher_is_in_place_and_still_verifies_production_hashes(
    cheap_password_hashing: PasswordHasher,
) -> None:
    stored = cheap_password_hashing.hash("a password")  # e.g. a user `mla users create` made

    assert credentials._hasher is CHEAP_ARGON2
    assert credentials._hasher.verify(stored, "a password")
    assert extract_parameters(credentials._DUMMY_HASH) == extract_parameters(CHEAP_ARGON2.hash("x"))
