"""pytest plugin entry point of chatsim (registered as `pytest11: chatsim`).

Fixtures for users' own tests are defined in their modules and re-exported
here, so that installing chatsim makes them available everywhere.
"""

from __future__ import annotations
