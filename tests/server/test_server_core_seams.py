"""The server core's seams: no import cycle, and cluster-wide timers that wake once."""

from __future__ import annotations

import ast
from pathlib import Path

import sim.server
from sim.server import AgentPolicy, Cluster, Drop
from tests.server.bayeux_script import ScriptClient, World
from transport.wire import decode, encode

SERVER = Path(sim.server.__file__).parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim.server."):
            found.add(str(node.module).rsplit(".", 1)[-1])
    return found


def test_the_server_modules_import_no_cycle() -> None:
    graph = {p.stem: _imports(p) for p in SERVER.glob("*.py")}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for dep in graph.get(start, set()):
            if dep == target or (dep not in seen and reaches(dep, target, seen | {dep})):
                return True
        return False

    assert not [m for m in graph if reaches(m, m, set())]
    assert "cluster" not in graph["instance"] | graph["chat"]


def test_cluster_wide_timers_wake_one_instance_only() -> None:
    cluster = Cluster(["i1", "i2", "i3"], agent=AgentPolicy(join_after=0.0, reply_after=None))
    cluster._ttl.append((5.0, "no-such-chat"))  # a cluster-wide timer, due at 5 s
    deadlines = {n: inst.next_deadline() for n, inst in cluster.instances.items()}
    assert deadlines == {"i1": 5.0, "i2": None, "i3": None}
    assert cluster.next_deadline() == 5.0
    cluster.instances["i2"].tick(6.0)
    assert cluster.own_deadline() == 5.0  # a non-clock instance leaves it alone
    cluster.tick(6.0)
    assert cluster.own_deadline() is None and cluster.next_deadline() is None


def test_the_cluster_names_the_chat_a_client_started_or_joined() -> None:
    world = World(Cluster(["i1", "i2"]))
    ann = ScriptClient(world, "i1")
    ann.handshake(0.0)
    assert world.cluster.chat_of(ann.client_id) is None
    chat_id = ann.chat("requestChat", 0.1, nickname="ann")["result"]["chatId"]
    assert world.cluster.chat_of(ann.client_id) == chat_id
    key = world.cluster.store.get(chat_id)
    assert key is not None
    restorer = ScriptClient(world, "i2", conn="c2")
    restorer.handshake(0.2)
    params = {"chatId": chat_id, "secureKey": key.secure_key, "transcriptPosition": 0}
    restorer.chat("requestNotifications", 0.3, **params)
    assert world.cluster.chat_of(restorer.client_id) == chat_id
    assert world.cluster.chat_of("nobody") is None


def test_text_and_parsed_frames_are_one_entry_point() -> None:
    """`receive(text)` is `decode` + `check_envelope` in front of `receive_messages`."""
    outputs: list[object] = []
    for parsed in (False, True):
        cluster = Cluster(["i1"])
        inst = cluster.instances["i1"]
        frame = [
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "id": "1",
                "supportedConnectionTypes": ["websocket"],
            }
        ]
        if parsed:
            inst.receive_messages("c1", decode(encode(frame)), 0.0)
        else:
            inst.receive("c1", encode(frame), 0.0)
        outputs.append((inst.take_outputs(), cluster.take_events()))
    assert outputs[0] == outputs[1]


def test_a_frame_that_is_not_bayeux_drops_its_connection() -> None:
    cluster = Cluster(["i1"])
    inst = cluster.instances["i1"]
    inst.receive("c1", '[{"channel": "/meta/connect", "ext": 1}]', 0.0)
    assert inst.take_outputs() == [Drop("c1", "bad frame: 'ext' must be an object")]
    assert [kind for _, _, kind, _ in cluster.take_events()] == ["bad_frame"]


def test_changes_name_only_the_instances_a_driver_must_look_at() -> None:
    """A driver drains only `cluster.changes`: each changed instance once, in order."""
    cluster = Cluster(["i1", "i2"], agent=AgentPolicy(join_after=None, reply_after=None))
    ann = ScriptClient(World(cluster), "i2")
    ann.handshake(0.0)  # drained by the script (Cluster.take_outputs)
    assert cluster.changes == []
    i1, i2 = cluster.instances["i1"], cluster.instances["i2"]
    connect = {"channel": "/meta/connect", "clientId": ann.client_id, "connectionType": "websocket"}
    i2.receive("c1", encode([connect]), 0.1)  # held: no output, but its hold timer
    assert cluster.changes == [1] and i2.outbox.rearm and not i2.outbox.ready
    assert cluster.take_outputs() == [] and cluster.changes == []
    assert not i2.outbox.rearm and not i2.outbox.marked
    i2.tick(0.2)  # a wake-up: its driver re-arms it
    i1.tick(0.2)
    assert cluster.changes == [1, 0]
    assert cluster.take_outputs() == [] and cluster.changes == []
    cluster.crash("i2", 0.3)  # the held connect's connection dropped
    assert cluster.changes == [1]
    assert [(name, type(out)) for name, out in cluster.take_outputs()] == [("i2", Drop)]
