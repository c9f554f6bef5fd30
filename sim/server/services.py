"""A server instance's services: /service/chat commands and plain publishes.

`Services` is a mixin of `ServerInstance` (its methods take the instance as
`self`), split out of `sim.server.instance` so that the Bayeux meta channels
and the services read on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.server.bayeux import BayeuxClient
from sim.server.channels import chat_of
from sim.server.replies import failed, ok
from statecharts.dialects import NO_REPLY
from transport.wire import BayeuxError, Message, bayeux_error

if TYPE_CHECKING:
    from sim.server.ports import InstancePort

LATE_TIMER = "late"  # the timer kind of an answer sent at the dialect's request timeout
MAX_LATE = 1024  # unanswered commands waiting for the dialect's request timeout


class Services:
    """/service/chat through the cluster's chat service; other channels published."""

    # What the mixin uses of its host class (declarations only).
    name: str
    cluster: InstancePort
    _late: dict[str, tuple[str, Message]]
    _seq: int

    def schedule_wakeup(self, due: float, kind: str, client_id: str) -> None:
        raise NotImplementedError  # the host class's

    def _publish(self, client: BayeuxClient, msg: Message, now: float) -> Message:
        channel = msg["channel"]
        data = msg.get("data")
        if channel.startswith("/service/"):
            return ok(msg, client)  # no other services: accepted and ignored, as CometD does
        if "data" not in msg:
            return failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Missing data"))
        if "*" in channel:
            return failed(msg, bayeux_error(BayeuxError.BAD_CHANNEL, "Cannot publish", channel))
        if (
            chat_of(self.cluster.store, channel) is not None
        ):  # transcripts are written by the chat service
            return failed(msg, bayeux_error(BayeuxError.BAD_CHANNEL, "Chat is read-only", channel))
        self.cluster.publish(channel, data)
        return ok(msg, client)

    def _service_chat(
        self, conn_id: str, client: BayeuxClient, msg: Message, now: float
    ) -> list[Message]:
        """The command's result, then the publish ack, as CometD servers answer a remote call.

        The result is a message on the service channel with the request's id and `data`
        (it resolves `remoteCall`); the ack has no `data` (it completes `publish(...,
        callback)` and, over WebSocket, is the only message CometD JS takes as the reply)."""
        data = msg.get("data")
        if not isinstance(data, dict):
            return [failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Missing data"))]
        outcome = self.cluster.chat.handle(self.name, client, data, now)
        if outcome is None:  # never answered (no_reply): the publish ack alone
            self._answer_late(conn_id, client, msg, now)
            return [ok(msg, client)]
        result = ok(msg, client)
        result["data"] = outcome
        return [result, ok(msg, client)]

    def _answer_late(self, conn_id: str, client: BayeuxClient, msg: Message, now: float) -> None:
        """Where the dialect times requests out (LiveChat: 15 s), answer request_timeout then."""
        dialect = self.cluster.dialect
        if dialect.request_timeout is None or len(self._late) >= MAX_LATE:
            return
        timeout = {"timeout": dialect.request_timeout}
        code = dialect.behaviour_code(NO_REPLY)
        result = ok(msg, client)
        result["data"] = {
            "operation": msg["data"].get("operation"),
            "error": dialect.render(code, timeout, NO_REPLY),
        }
        self._seq += 1
        key = f"{self._seq}"
        self._late[key] = (conn_id, result)
        self.schedule_wakeup(now + dialect.request_timeout, LATE_TIMER, key)
