"""The simulator: virtual-time world, server emulator, faults, live server, CLI."""

# The compiled build, if current, must be in place before any module of the package loads.
from statecharts.native import activate

activate()
