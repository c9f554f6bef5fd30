"""The sans-I/O chat server emulator: a cluster of Bayeux instances over one session store."""

from sim.server.agent import AgentPolicy
from sim.server.bayeux import BayeuxClient
from sim.server.chat import Decorator, LoginPolicy
from sim.server.cluster import Cluster
from sim.server.instance import SERVER_CONNECTION_TYPES, ServerInstance
from sim.server.outputs import Drop, Output, Reply, ServerEvent
from sim.server.store import MemoryStore, SessionStore, StoredChat, TranscriptEvent

__all__ = [
    "SERVER_CONNECTION_TYPES",
    "AgentPolicy",
    "BayeuxClient",
    "Cluster",
    "Decorator",
    "Drop",
    "LoginPolicy",
    "MemoryStore",
    "Output",
    "Reply",
    "ServerEvent",
    "ServerInstance",
    "SessionStore",
    "StoredChat",
    "TranscriptEvent",
]
