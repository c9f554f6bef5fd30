"""One rule for a seed, on the command line (`--seed`) and in a file (`seed:`)."""

from __future__ import annotations

SEED_RULE = "a non-negative integer seed"


def is_seed(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
