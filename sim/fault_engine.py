"""The one fault engine, for `sim` code: re-exported from `statecharts.fault_engine`.

The engine is pure (no clock, no I/O, no simulation kernel) and lives in
`statecharts/` beside the fault values, so that the aio client's own links
(`transport/aio`, which must not import `sim`) run the very same code as the
simulated network and the live server.
"""

from statecharts.fault_engine import (
    REORDER_HOLD,
    Delivery,
    FaultEngine,
    Link,
    Note,
    Released,
)

__all__ = ["REORDER_HOLD", "Delivery", "FaultEngine", "Link", "Note", "Released"]
