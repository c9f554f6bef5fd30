"""Where the server's session secrets (chat secureKeys) come from: an injected source.

The simulator needs them reproducible (same scenario + seed, same trace), so
it draws them from its seeded generator; a live server must make them
unguessable, so it draws them from the operating system (`secrets`). The
cluster takes either; nothing else in the server knows which.
"""

from __future__ import annotations

import random
import secrets
from typing import Protocol


class SecretSource(Protocol):
    def secure_key(self) -> str: ...


class SeededSecrets:
    """Reproducible keys for virtual time: 64 bits from the run's seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def secure_key(self) -> str:
        return f"{self._rng.getrandbits(64):016x}"


class SystemSecrets:
    """Unguessable keys for live servers: 128 bits from the operating system."""

    def secure_key(self) -> str:
        return secrets.token_hex(16)
