"""Where the server's secrets (chat secureKeys, Bayeux clientIds) come from: an injected source.

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
    def client_id(self, instance: str, count: int) -> str:
        """The `count`-th Bayeux clientId of `instance`."""
        ...


class SeededSecrets:
    """Reproducible values for virtual time: keys of 64 bits from the run's seeded
    generator, clientIds counted per instance."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def secure_key(self) -> str:
        return f"{self._rng.getrandbits(64):016x}"

    def client_id(self, instance: str, count: int) -> str:
        return f"{instance}-{count}"  # readable in traces


class SystemSecrets:
    """Unguessable values for live servers, from the operating system: keys of 128 bits,
    clientIds of 144."""

    def secure_key(self) -> str:
        return secrets.token_hex(16)

    def client_id(self, instance: str, count: int) -> str:
        return f"{instance}-{secrets.token_urlsafe(18)}"
