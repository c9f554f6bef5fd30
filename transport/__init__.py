"""The sans-I/O chat transport client core and its asyncio adapters."""

# The compiled build, if current, must be in place before any module of the package loads.
from statecharts.native import activate

activate()
