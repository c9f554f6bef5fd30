"""Load chatsim's pytest plugin here rather than through its entry point.

`./dev test` passes `-p no:chatsim` so the plugin (and everything it
imports) loads after coverage has started; users get it via the entry point.
"""

pytest_plugins = ["sim.pytest_plugin"]
