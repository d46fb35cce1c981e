"""The service's rules of trust, through the real protocol on an in-process socket pair."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from companion.service import protocol
from companion.service.client import ServiceClient, ServiceRefused, VersionMismatch
from companion.store import runs
from tests.service.conftest import AVA, DRILL, GUIDE, LIAM, Running


def signed_in(service: Running, student: str = AVA) -> ServiceClient:
    client = service.client()
    client.sign_in(student, "1234")
    return client


def refused(call: Callable[[], object]) -> ServiceRefused:
    with pytest.raises(ServiceRefused) as info:
        call()
    return info.value


def test_hello_of_another_version_is_told_both_versions(service: Running) -> None:
    sock = service.host.connect()
    with sock, sock.makefile("rb") as reader:
        sock.sendall(protocol.encode({"id": 1, "op": "hello", "protocol": 99}))
        answer = protocol.read_message(reader)
        assert answer is not None
        assert answer["error"]["code"] == "version_mismatch"
        assert "protocol 99" in answer["error"]["message"]
        assert f"speaks {protocol.PROTOCOL_VERSION}" in answer["error"]["message"]
        assert answer["protocol"] == protocol.PROTOCOL_VERSION
        assert protocol.read_message(reader) is None  # and the service hangs up


def test_the_client_raises_version_mismatch(service: Running) -> None:
    client = ServiceClient(service.host.connect, protocol_version=2)
    service.clients.append(client)
    with pytest.raises(VersionMismatch, match="protocol 2"):
        client.request("status")
    assert not client.connected


def test_nothing_before_hello_and_a_line_too_long_ends_the_connection(service: Running) -> None:
    sock = service.host.connect()
    with sock, sock.makefile("rb") as reader:
        sock.sendall(protocol.encode({"id": 1, "op": "classes"}))
        answer = protocol.read_message(reader)
        assert answer is not None and answer["error"]["code"] == "hello_first"
        sock.sendall(b"x" * (protocol.MAX_MESSAGE_BYTES + 10) + b"\n")
        answer = protocol.read_message(reader)
        assert answer is not None and answer["error"]["code"] == "bad_request"
        assert protocol.read_message(reader) is None


def test_lists_and_status_say_nothing_secret(service: Running) -> None:
    client = service.client()
    assert [c["id"] for c in client.request("classes")["classes"]] == [
        "demo-class-1",
        "demo-class-2",
    ]
    grid = client.request("students", **{"class": "demo-class-1"})["students"]
    assert {"id": AVA, "name": "Ava", "canSignIn": True, "hasPin": True} in grid
    status = client.request("status")
    assert status["uid"] == client.hello["uid"]
    assert status["openRuns"] == 0 and status["credentialsPresent"] is False
    assert "token" not in str(status).lower() and "pin" not in str(status).lower()


def test_pin_guesses_beyond_the_limit_are_refused_even_with_the_right_pin(service: Running) -> None:
    client = service.client()
    first = refused(lambda: client.sign_in(AVA, "0000"))
    assert first.code == "wrong_pin" and first.fields["remainingAttempts"] == 4
    codes = [refused(lambda: client.sign_in(AVA, "0000")).code for _ in range(4)]
    assert codes == ["wrong_pin", "wrong_pin", "wrong_pin", "locked_out"]
    locked = refused(lambda: client.sign_in(AVA, "1234"))
    assert locked.code == "locked_out" and locked.fields["retryAfterS"] > 0
    # a new connection does not start the count again: the lockout is the service's
    assert refused(lambda: service.client().sign_in(AVA, "1234")).code == "locked_out"
    # a guide clears it (with the guide's own PIN, checked in the service)
    guide = service.client()
    assert (
        refused(
            lambda: guide.request("clear_lockout", student=AVA, guide=GUIDE, guidePin="0000")
        ).code
        == "wrong_pin"
    )
    guide.request("clear_lockout", student=AVA, guide=GUIDE, guidePin="9999")
    assert client.sign_in(AVA, "1234")["user"]["id"] == AVA


def test_nothing_for_a_student_not_signed_in_through_this_connection(service: Running) -> None:
    ava = signed_in(service, AVA)
    run = ava.open_run(AVA, DRILL)
    other = signed_in(service, LIAM)
    assert refused(lambda: other.open_run(AVA, DRILL)).code == "not_signed_in"
    for op, args in [
        ("journal", {"run": run, "lines": [{"seq": 1, "t": 0, "kind": "heartbeat"}]}),
        ("answer", {"run": run, "seq": 1, "t": 0, "item": "drill-1", "response": "13"}),
        ("close_run", {"run": run, "completed": True}),
        ("sign_out", {"student": AVA}),
    ]:
        assert refused(lambda op=op, args=args: other.request(op, **args)).code == "not_signed_in"
    assert runs.count_lines(service.hosted.db, run) == 1  # the start line only


def test_a_second_open_run_for_the_same_student_is_refused_anywhere(service: Running) -> None:
    first = signed_in(service, AVA)
    run = first.open_run(AVA, DRILL)
    second = signed_in(service, AVA)  # another app, another account: same computer
    assert refused(lambda: second.open_run(AVA, DRILL)).code == "run_open"
    assert refused(lambda: first.open_run(AVA, "demo-math-drill")).code == "run_open"
    liam = signed_in(service, LIAM)
    assert liam.open_run(LIAM, DRILL) != run  # another student's lesson goes on beside
    first.close_run(run, completed=False)
    assert second.open_run(AVA, DRILL) != run


def test_lines_ahead_of_the_service_clock_are_refused(service: Running) -> None:
    client = signed_in(service)
    run = client.open_run(AVA, DRILL)
    service.clock.advance(5_000)
    assert client.line(run, {"t": 4, "kind": "heartbeat"}) == 1
    assert client.acked(run) == 1
    # 60 s of lesson after 5 s: time may not pass faster than it does
    err = refused(
        lambda: client.request(
            "journal",
            run=run,
            lines=[{"seq": 2, "t": 5.5, "kind": "heartbeat"}, {"seq": 3, "t": 60, "kind": "input"}],
        )
    )
    assert err.code == "time_ahead" and err.fields["acked"] == 2
    assert runs.journal(service.hosted.db, run)[-1].t == 5_500
    service.clock.advance(60_000)
    assert (
        client.request("journal", run=run, lines=[{"seq": 3, "t": 60, "kind": "input"}])["acked"]
        == 3
    )


def test_a_repeated_seq_is_acknowledged_and_stored_once(service: Running) -> None:
    client = signed_in(service)
    run = client.open_run(AVA, DRILL)
    service.clock.advance(3_000)
    lines = [{"seq": n, "t": n / 2, "kind": "heartbeat"} for n in (1, 2, 3)]
    assert client.request("journal", run=run, lines=lines)["acked"] == 3
    assert client.request("journal", run=run, lines=lines[1:])["acked"] == 3
    assert runs.count_lines(service.hosted.db, run) == 4
    gap = refused(
        lambda: client.request("journal", run=run, lines=[{"seq": 6, "t": 2, "kind": "heartbeat"}])
    )
    assert gap.code == "seq_gap" and gap.fields["acked"] == 3


def test_the_service_scores_answers_it_holds_the_key_for(service: Running) -> None:
    client = signed_in(service)
    run = client.open_run(AVA, DRILL)
    service.clock.advance(2_000)
    right = client.request("answer", run=run, seq=1, t=1, item="drill-1", response=" 13 ")
    wrong = client.request("answer", run=run, seq=2, t=1.5, item="drill-2", response="10")
    assert (right["correct"], right["scoredBy"]) == (True, "app")
    assert (wrong["correct"], wrong["scoredBy"]) == (False, "app")
    # the app may not claim a keyed answer right, by answer or by journal line
    assert (
        refused(
            lambda: client.request("answer", run=run, seq=3, t=1.5, item="drill-3", correct=True)
        ).code
        == "scored_by_service"
    )
    assert (
        refused(
            lambda: client.request(
                "journal",
                run=run,
                lines=[{"seq": 3, "t": 1.5, "kind": "answer", "item": "drill-3", "correct": True}],
            )
        ).code
        == "scored_by_service"
    )
    journal = runs.journal(service.hosted.db, run)
    assert [(line.item, line.correct, line.scored_by) for line in journal[1:]] == [
        ("drill-1", True, "app"),
        ("drill-2", False, "app"),
    ]


def test_closing_a_run_scores_it_and_ends_the_stream(service: Running) -> None:
    client = signed_in(service)
    run = client.open_run(AVA, DRILL)
    for n in range(1, 61):
        service.clock.advance(1_000)
        client.line(run, {"t": n, "kind": "input"})
    closed = client.close_run(run, completed=True)
    assert closed["completed"] is True and closed["activeMs"] == 60_000
    assert closed["endMs"] == 60_000
    assert (
        refused(
            lambda: client.request(
                "journal", run=run, lines=[{"seq": 61, "t": 60, "kind": "input"}]
            )
        ).code
        == "unknown_run"
    )
    row = runs.get_run(service.hosted.db, run)
    assert row is not None and row.state == "closed"


def test_a_run_left_alone_is_closed_by_the_abandonment_rules(service: Running) -> None:
    client = signed_in(service)
    run = client.open_run(AVA, DRILL)
    service.clock.advance(10_000)
    client.line(run, {"t": 9, "kind": "input"})
    assert service.hosted.service.housekeeping() == []
    service.clock.advance(400_000)  # the drill's abandonAfter is 300 s
    assert service.hosted.service.housekeeping() == [run]
    row = runs.get_run(service.hosted.db, run)
    assert row is not None and row.state == "closed" and row.abandoned
    assert (
        refused(
            lambda: client.request("journal", run=run, lines=[{"seq": 2, "t": 10, "kind": "input"}])
        ).code
        == "unknown_run"
    )


def test_guide_operations_need_the_guides_pin(service: Running) -> None:
    client = service.client()
    args = {"from": "2026-01-05", "to": "2026-01-05"}
    assert (
        refused(lambda: client.request("report", guide=GUIDE, guidePin="1111", **args)).code
        == "wrong_pin"
    )
    assert (
        refused(lambda: client.request("report", guide=AVA, guidePin="1234", **args)).code
        == "not_a_guide"
    )
    ava = signed_in(service)
    run = ava.open_run(AVA, DRILL)
    service.clock.advance(61_000)
    ava.line(run, {"t": 60, "kind": "input"})
    ava.close_run(run, completed=False)
    report = client.request("report", guide=GUIDE, guidePin="9999", **args)["report"]
    assert [s["id"] for s in report["students"]] == [AVA]
    assert report["students"][0]["focusedMinutes"] > 0
    client.request("set_pin", student=LIAM, pin="4321", guide=GUIDE, guidePin="9999")
    assert service.client().sign_in(LIAM, "4321")["user"]["id"] == LIAM
    said = client.request("sync_now", guide=GUIDE, guidePin="9999")["said"]
    assert "not configured" in said


def test_after_a_restart_the_client_takes_up_its_student_and_resends(
    start: Callable[[], Running],
) -> None:
    from tests.service.conftest import stop

    first = start()
    holder = {"host": first.host}
    client = ServiceClient(lambda: holder["host"].connect())
    client.sign_in(AVA, "1234")
    run = client.open_run(AVA, DRILL)
    first.clock.advance(10_000)
    for n in range(1, 6):
        client.line(run, {"t": n, "kind": "input"})
    assert client.acked(run) == 5
    client.close()
    stop(first)  # the service is gone: lines wait in the app's memory
    for n in range(6, 9):
        client.line(run, {"t": n, "kind": "input"})
    assert client.pending(run) == 3 and not client.connected
    second = start()
    holder["host"] = second.host
    assert client.flush() is True
    assert client.acked(run) == 8
    assert [line.t for line in runs.journal(second.hosted.db, run)] == [
        0,
        1000,
        2000,
        3000,
        4000,
        5000,
        6000,
        7000,
        8000,
    ]
    client.close()
    second.clients.append(client)


def test_a_token_signs_in_only_its_own_account() -> None:
    from companion.core.clock import FakeClock
    from companion.service.tokens import TokenSigner

    clock = FakeClock()
    signer = TokenSigner(b"k" * 32, clock, lifetime_s=60)
    token = signer.issue(AVA, 1001)
    holder = signer.check(token, 1001)
    assert holder is not None and holder.student_id == AVA
    assert signer.check(token, 1002) is None
    payload, _, mac = token.partition(".")
    assert signer.check(payload[:-2] + "xx." + mac, 1001) is None
    assert TokenSigner(b"o" * 32, clock).check(token, 1001) is None
    clock.advance(61_000)
    assert signer.check(token, 1001) is None
    fresh = signer.issue(AVA, 1001)
    signer.revoke(fresh)
    assert signer.check(fresh, 1001) is None
