"""pytest plugin entry point of chatsim (registered as `pytest11: chatsim`).

Fixtures for users' own tests are defined in their modules and re-exported
here, so that installing chatsim makes them available everywhere.
"""

from __future__ import annotations

import contextlib

# Live server fixtures need pytest-asyncio (the `test` extra); without it the
# simulated fixtures still load.
with contextlib.suppress(ImportError):
    from sim.live.fixtures import (  # noqa: F401 - re-exported fixtures
        chatsim_live_server,
        chatsim_live_server_factory,
    )

# Simulated-world fixtures for property tests of client flows (sim/hypo/fixtures.py).
from sim.hypo.fixtures import (  # noqa: F401 - re-exported fixtures
    chatsim_cluster,
    fault_injector,
    run_client_flow_fixture,
    virtual_clock,
)

# Real-browser fixtures (sim/live/widget_fixtures.py); Playwright is imported only
# when a test asks for the browser.
from sim.live.widget_fixtures import (  # noqa: F401 - re-exported fixtures
    chatsim_browser,
    chatsim_page_run,
    chatsim_serve,
    chatsim_serve_factory,
)
