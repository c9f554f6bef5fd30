"""The locustfile `chatsim load` runs (master and workers alike).

On another machine, join a master with `chatsim load --join MASTER`, or with
Locust itself: `locust -f <this file> --worker --master-host MASTER`.
"""

from sim.load.user import BayeuxUser, ChatUser


class ChatBrowser(ChatUser):
    """A browser chatting with a chat server (`chatsim load --mode chat`)."""


class BayeuxBrowser(BayeuxUser):
    """A browser on a pure Bayeux server (`chatsim load --mode bayeux`)."""
