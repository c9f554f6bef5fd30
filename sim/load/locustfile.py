"""The locustfile `chatsim load` runs (master and workers alike).

On another machine, join a master with the same file:
`locust -f $(python -c 'import sim.load.locustfile as f; print(f.__file__)') --worker
--master-host MASTER` — or `chatsim load --join MASTER`.
"""

from sim.load.user import BayeuxUser, ChatUser

__all__ = ["BayeuxUser", "ChatUser"]
