"""The tallying of `chatsim load`, without Locust or sockets."""

from __future__ import annotations

from collections import Counter

from sim.load.netfaults import chosen, faults_for
from sim.load.tally import (
    ServerTranscript,
    SessionRecord,
    Totals,
    TranscriptEntry,
    find,
    judge_session,
    live_counts,
)


def record(**fields: object) -> SessionRecord:
    rec = SessionRecord("w1-u0", chat_id="chat-1", state="ready", ever_ready=True)
    for key, value in fields.items():
        setattr(rec, key, value)
    return rec


def truth(*events: tuple[int, str, str | None]) -> ServerTranscript:
    return ServerTranscript(
        "chat-1", tuple(TranscriptEntry(i, party, mid) for i, party, mid in events)
    )


SERVER = truth((1, "client", None), (2, "agent", None), (3, "client", "m1"), (4, "client", "m2"))


def test_a_clean_session_counts_nothing_wrong() -> None:
    rec = record(sent=["m1", "m2"], acked={"m1": [3], "m2": [4]}, delivered=[1, 2, 3, 4])
    out = judge_session(rec, SERVER)
    assert (out.lost, out.duplicated, out.unacked) == (0, 0, 0)
    assert (out.sent, out.acked, out.delivered, out.truth_checked, out.judged) == (2, 2, 4, 1, 1)
    assert out.clean


def test_an_accepted_index_never_delivered_is_lost() -> None:
    rec = record(sent=["m1", "m2"], acked={"m1": [3], "m2": [4]}, delivered=[1, 2, 4])
    assert judge_session(rec, SERVER).lost == 1


def test_an_acknowledged_message_the_server_lacks_is_lost() -> None:
    server = truth((1, "client", None), (2, "agent", None), (3, "client", "m2"))
    rec = record(sent=["m1", "m2"], acked={"m1": [3], "m2": [3]}, delivered=[1, 2, 3])
    assert judge_session(rec, server).lost == 1


def test_duplicates_counted_three_ways() -> None:
    server = truth((1, "client", None), (2, "client", "m1"), (3, "client", "m1"))
    rec = record(sent=["m1"], acked={"m1": [2, 2]}, delivered=[1, 2, 2, 3])
    # index 2 twice, m1 acknowledged twice, m1 at two indexes
    assert judge_session(rec, server).duplicated == 3


def test_a_message_neither_acked_nor_failed_is_unacked() -> None:
    rec = record(
        sent=["m1", "m2", "m3"], acked={"m1": [3]}, failed={"m2": 100}, delivered=[1, 2, 3]
    )
    out = judge_session(rec, truth((1, "client", None), (2, "agent", None), (3, "client", "m1")))
    assert (out.unacked, out.failed, out.lost) == (1, 1, 0)
    assert not out.clean


def test_a_finished_session_owes_nothing_past_what_it_reached() -> None:
    rec = record(state="ended", delivered=[1, 2])
    assert judge_session(rec, SERVER).lost == 0


def test_without_server_truth_gaps_below_the_highest_index_are_lost() -> None:
    rec = record(sent=["m1"], acked={"m1": [6]}, delivered=[1, 2, 4, 5])
    out = judge_session(rec, None)
    assert (out.lost, out.truth_checked) == (2, 0)  # 3 and 6


def test_pure_bayeux_a_confirmed_publish_must_come_back() -> None:
    rec = record(
        chat_id=None,
        bayeux=True,
        sent=["b-p1", "b-p2", "b-p3"],
        acked={"b-p1": [1], "b-p2": [2], "b-p3": [3]},
        delivered=[1, 3, 3],
    )
    out = judge_session(rec, None)
    assert (out.lost, out.duplicated) == (1, 1)


def test_live_counts_and_totals_round_trip() -> None:
    rec = record(
        sent=["m1"], interrupted=2, continued=2, restored=1, errors=Counter({150: 2, 100: 1})
    )
    live = live_counts(rec)
    assert (live.users, live.sessions_ready, live.sessions_alive) == (1, 1, 1)
    both = Totals.sum([live, live])
    assert both.interrupted == 4 and both.errors == Counter({150: 4, 100: 2})
    data = both.as_dict()
    assert data["errors"] == {"100": 2, "150": 4}
    assert Totals.from_dict(data) == both


def test_a_share_of_browsers_is_evenly_spread() -> None:
    hit = sum(chosen(n, 0.3) for n in range(1000))
    assert 290 <= hit <= 310
    assert all(chosen(n, None) for n in range(10))
    assert sum(chosen(n, 0.3) for n in range(10)) == 3


def test_faults_for_keeps_browser_kinds_without_share() -> None:
    faults = [
        {"kind": "outage", "at": 3.0, "duration": 4.0, "share": 0.3},
        {"kind": "crash", "instance": "i2", "at": 4.0, "duration": 3.0},
        {"kind": "latency", "ms": 50.0},
    ]
    hit = [faults_for(n, faults) for n in range(10)]
    assert all({"kind": "latency", "ms": 50.0} in f for f in hit)
    assert sum(any(x["kind"] == "outage" for x in f) for f in hit) == 3
    assert not any(x["kind"] == "crash" or "share" in x for f in hit for x in f)


def test_a_chat_session_without_a_chat_owes_nothing() -> None:
    rec = record(chat_id=None, state="connecting", ever_ready=False, sent=["m1"])
    out = judge_session(rec, None)
    assert (out.lost, out.unacked) == (0, 1)


def test_findings_name_the_indexes_and_ids() -> None:
    rec = record(sent=["m1", "m2", "m3"], acked={"m1": [3], "m9": [5]}, delivered=[1, 3, 3])
    findings = find(rec, SERVER)
    assert findings.describe("w1-u0") == (
        "w1-u0: never delivered 2, 4; acknowledged but not on the server m9; "
        "delivered twice 3; never acknowledged m2, m3"
    )
    assert (
        find(
            record(delivered=[1, 2, 3, 4], sent=["m1", "m2"], acked={"m1": [3], "m2": [4]}), SERVER
        ).describe("x")
        is None
    )


def test_each_session_is_judged_by_the_trace_checker() -> None:
    from sim.load.session import LoadSession, Shared, StatSink, Target
    from statecharts.trace import TraceRecord

    session = LoadSession(Shared(Target({"i1": "http://x/cometd"}), StatSink()), "w1-u0", 0)
    src = "client:w1-u0"
    session.trace += [
        TraceRecord(0.5, src, "state", {"from": "idle", "to": "connecting", "trigger": "start"}),
        TraceRecord(1.0, src, "continued", {"duration": 1.0}),
    ]
    found = session._check()
    assert any("I1" in line for line in found), found
    clean = LoadSession(Shared(Target({"i1": "http://x/cometd"}), StatSink()), "w1-u1", 1)
    assert clean._check() == []


def test_another_event_at_an_index_is_lost() -> None:
    # The browser got agent text at 3 where the server has the browser's own m1.
    rec = record(
        sent=["m1", "m2"],
        acked={"m1": [3], "m2": [4]},
        delivered=[1, 2, 3, 4],
        arrived={1: "client", 2: "agent", 3: "agent", 4: "m2"},
    )
    findings = find(rec, SERVER)
    assert findings.other_event == (3,)
    assert judge_session(rec, SERVER).lost == 1


def test_an_index_the_server_does_not_have_is_counted() -> None:
    rec = record(delivered=[1, 2, 3], arrived={1: "client", 2: "agent", 3: "m9"})
    server = truth((1, "client", None), (2, "agent", None))
    assert find(rec, server).other_event == (3,)
