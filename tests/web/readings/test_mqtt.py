"""The MQTT subscriber against the real Mosquitto broker on 127.0.0.1:1883: published readings become one
batch per organization through the ingest, a bad payload becomes a quarantined row (not a log line), and a
message for an unknown organization is counted.

Each test subscribes under a topic root of its own (``<root>/<credit code>/<point>``), so two test runs
sharing the broker never read each other's messages; the subscriber only looks at the last two levels.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from typing import Any

import aiomqtt
import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from carbonmeter.readings.ingest import RejectedRow
from carbonmeter.readings.model import Code, Quarantine
from carbonmeter.web.readings.models import IngestRun, PointProfile, QuarantinedRow
from carbonmeter.web.readings.mqtt import Options, Stats, Subscriber, payload_rows, topic_parts
from carbonmeter.web.registry.models import Organization
from tests.web.readings.conftest import CREDIT, ROOT, Installation, make_profile

BROKER = ("127.0.0.1", 1883)
YEAR = 2025
COAL = "P01.1"


def test_the_broker_is_running() -> None:
    """scripts/services starts Mosquitto; these tests never skip for want of it, they fail here first."""
    with socket.create_connection(BROKER, timeout=2):
        pass


@pytest.fixture
def profile(org_a: Organization) -> PointProfile:
    return make_profile(org_a, COAL, "consumption_mass", expected_interval=3600, min_value=0, max_value=100)


def options(root: str, **kw: Any) -> Options:
    return Options(
        host=BROKER[0],
        port=BROKER[1],
        topic=f"{root}/+/+",
        client_id=f"carbonmeter-test-{uuid.uuid4().hex[:8]}",
        persistent=False,
        **kw,
    )


async def _publish_while_subscribed(subscriber: Subscriber, messages: list[tuple[str, bytes]]) -> Stats:
    """Run the subscriber, publish once it has subscribed (QoS 1), and return what it did."""
    task = asyncio.create_task(subscriber.run())
    await asyncio.wait_for(subscriber.ready.wait(), 10)
    async with aiomqtt.Client(BROKER[0], BROKER[1], identifier=f"pub-{uuid.uuid4().hex[:8]}") as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)
    return await asyncio.wait_for(task, 30)


def run_subscriber(subscriber: Subscriber, messages: list[tuple[str, bytes]]) -> Stats:
    # async_to_sync: the subscriber's database calls (sync_to_async, thread-sensitive) then run on this
    # thread, inside the test's transaction.
    return async_to_sync(_publish_while_subscribed)(subscriber, messages)


def test_readings_bad_payloads_and_unknown_plants(org_a: Organization, profile: PointProfile) -> None:
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    code = org_a.credit_code
    one = {"ts": f"{YEAR}-01-01 00:00", "value": 10.0, "unit": "t"}
    two = [
        {"ts": f"{YEAR}-01-01 01:00", "value": 11.0, "unit": "t", "quantity": "consumption_mass"},
        {"ts": f"{YEAR}-01-01 02:00", "value": "12", "unit": "t"},
    ]
    messages = [
        (f"{root}/{code}/{COAL}", json.dumps(one).encode()),
        (f"{root}/{code}/{COAL}", json.dumps(two).encode()),
        (f"{root}/{code}/{COAL}", b"\xff not json"),
        (f"{root}/915000000000000000/{COAL}", json.dumps(one).encode()),
    ]
    stats = run_subscriber(
        Subscriber(options(root, batch_size=100, interval=30, max_messages=len(messages), duration=20)),
        messages,
    )
    assert stats.messages == 4 and stats.bad_payloads == 1
    assert stats.unknown == {"915000000000000000": 1}
    [run] = IngestRun.objects.filter(organization=org_a)
    assert stats.runs == [run.pk]
    assert run.source == "mqtt" and (run.rows_total, run.rows_accepted, run.rows_quarantined) == (4, 3, 1)
    assert run.batch is not None and run.batch.rows == 3 and run.batch.source == "mqtt"
    [bad] = QuarantinedRow.objects.filter(run=run)
    assert "not json" in json.dumps(bad.raw, ensure_ascii=False) and bad.state == "open"


def test_a_batch_is_flushed_every_n_messages(org_a: Organization, profile: PointProfile) -> None:
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    messages = [
        (
            f"{root}/{org_a.credit_code}/{COAL}",
            json.dumps({"ts": f"{YEAR}-01-02 {h:02d}:00", "value": 1.0 + h}).encode(),
        )
        for h in range(5)
    ]
    stats = run_subscriber(
        Subscriber(options(root, batch_size=2, interval=30, max_messages=5, duration=20)), messages
    )
    runs = list(IngestRun.objects.filter(organization=org_a).order_by("pk"))
    assert [r.rows_total for r in runs] == [2, 2, 1]  # two full batches, the rest flushed on stopping
    assert stats.runs == [r.pk for r in runs]
    assert all(r.batch is not None for r in runs)


def test_a_batch_is_flushed_after_t_seconds(org_a: Organization, profile: PointProfile) -> None:
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    flushed: list[int] = []

    class Watching(Subscriber):
        async def _flush(self, org: int) -> None:
            flushed.append(self.stats.messages)
            await super()._flush(org)

    payload = json.dumps({"ts": f"{YEAR}-01-03 00:00", "value": 1.0}).encode()
    subscriber = Watching(options(root, batch_size=100, interval=0.5, duration=2.0))
    run_subscriber(subscriber, [(f"{root}/{org_a.credit_code}/{COAL}", payload)])
    assert flushed and flushed[0] == 1  # flushed by time, well before the run ended
    assert IngestRun.objects.filter(organization=org_a).count() == 1


def test_topic_and_payload_parsing() -> None:
    assert topic_parts("carbonmeter/915/P1") == ("915", "P1")
    assert topic_parts("carbonmeter/915") is None
    rows, bad = payload_rows("P1", b'{"ts": "2025-01-01 00:00", "value": 1, "point": "OTHER", "x": 1}')
    assert rows == [{"point": "P1", "ts": "2025-01-01 00:00", "value": 1}] and bad == 0
    rows, bad = payload_rows("P1", b'[{"ts": "t", "value": 2}, 3]')
    assert bad == 1 and rows[0] == {"point": "P1", "ts": "t", "value": 2}
    assert rows[1] == RejectedRow("payload_item", {"text": "3"}, {"point": "P1", "payload": "3"})
    rows, bad = payload_rows("P1", b"[]")
    assert bad == 1 and rows == [
        RejectedRow("payload_empty", {"text": "[]"}, {"point": "P1", "payload": "[]"})
    ]


def test_a_payload_that_is_not_json_says_so() -> None:
    """It was quarantined as "ts missing"; now the reason says the message is not JSON, and where."""
    [row], bad = payload_rows("P1", b"ts=2025-01-01,value=3")
    assert bad == 1 and isinstance(row, RejectedRow) and row.variant == "payload_json"
    assert row.raw == {"point": "P1", "payload": "ts=2025-01-01,value=3"}
    q = Quarantine("t", "", 1, "", Code.PARSE, row.variant, row.params, row.raw)
    assert q.reason("en").startswith("the MQTT message is not JSON (Expecting value: line 1 column 1)")
    assert q.reason("zh").startswith("MQTT 消息不是 JSON")
    [deep], _ = payload_rows("P1", b"[" * 100_000)
    assert isinstance(deep, RejectedRow) and deep.variant == "payload_json"
    assert len(deep.params["text"]) <= 201  # quoted at most SHOWN characters, the whole kept in raw
    assert deep.raw["payload"] == "[" * 100_000


def test_a_payload_that_is_not_utf8_keeps_its_bytes() -> None:
    """Invalid UTF-8 was stored as U+FFFD: now escaped for the reader, and the exact bytes in base64."""
    payload = b'{"ts": "2025-01-01 00:00", "value": "\xff\xfe"}'
    [row], bad = payload_rows("P1", payload)
    assert bad == 1 and isinstance(row, RejectedRow) and row.variant == "payload_utf8"
    assert "\ufffd" not in json.dumps(row.raw, ensure_ascii=False)
    assert row.raw["payload"] == '{"ts": "2025-01-01 00:00", "value": "\\xff\\xfe"}'
    assert base64.b64decode(row.raw["payload_base64"]) == payload
    assert row.params["byte"] == payload.index(b"\xff")


def test_bad_payloads_through_the_broker(org_a: Organization, profile: PointProfile) -> None:
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    topic = f"{root}/{org_a.credit_code}/{COAL}"
    good = json.dumps({"ts": f"{YEAR}-01-04 00:00", "value": 1.0}).encode()
    messages = [(topic, b"\xff\x00 raw"), (topic, b"value=3"), (topic, good)]
    run_subscriber(
        Subscriber(options(root, batch_size=100, interval=30, max_messages=len(messages), duration=20)),
        messages,
    )
    [run] = IngestRun.objects.filter(organization=org_a)
    assert (run.rows_total, run.rows_accepted, run.rows_quarantined) == (3, 1, 2)
    by_variant = {q.variant: q for q in QuarantinedRow.objects.filter(run=run)}
    assert set(by_variant) == {"payload_utf8", "payload_json"}
    assert base64.b64decode(by_variant["payload_utf8"].raw["payload_base64"]) == b"\xff\x00 raw"
    assert by_variant["payload_utf8"].raw["payload"] == "\\xff\\x00 raw"  # NUL escaped too (PostgreSQL)
    assert "不是 JSON" in by_variant["payload_json"].reason
    assert by_variant["payload_json"].reason_in("en").startswith("the MQTT message is not JSON")


def test_a_message_without_values_is_quarantined_and_acknowledged(
    org_a: Organization, profile: PointProfile
) -> None:
    """Such a message crashed the ingest; unacknowledged, it came back and killed every restart. Now its
    rows are quarantined and it is acknowledged: a restart of the same persistent session gets nothing."""
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    client_id = f"carbonmeter-test-{uuid.uuid4().hex[:8]}"
    payload = json.dumps([{"ts": f"{YEAR}-01-05 00:00", "unit": "t"}, {"ts": f"{YEAR}-01-05 01:00"}]).encode()
    first = Subscriber(
        replace(options(root, batch_size=1, interval=30, max_messages=1, duration=20), client_id=client_id)
    )
    first.options.persistent = True
    stats = run_subscriber(first, [(f"{root}/{org_a.credit_code}/{COAL}", payload)])
    [run] = IngestRun.objects.filter(organization=org_a)
    assert stats.runs == [run.pk] and (run.rows_total, run.rows_quarantined) == (2, 2)
    assert {q.code for q in QuarantinedRow.objects.filter(run=run)} == {"RD-MISSING"}
    again = Subscriber(replace(options(root, interval=0.2, duration=1.5), client_id=client_id))
    again.options.persistent = True
    try:
        assert async_to_sync(again.run)().messages == 0  # nothing was left unacknowledged
    finally:
        clean = Subscriber(replace(options(root, duration=0.2), client_id=client_id))
        async_to_sync(clean.run)()  # a clean session drops the broker's stored session


def test_management_command_runs_bounded(capsys: Any) -> None:
    topic = f"cmtest-{uuid.uuid4().hex[:8]}/+/+"
    client_id = f"carbonmeter-test-{uuid.uuid4().hex[:6]}"
    call_command(
        "mqtt_subscribe", "--duration", "0.5", "--clean-session", "--client-id", client_id, "--topic", topic
    )
    assert "0 messages" in capsys.readouterr().out


def test_a_bad_message_sent_again_is_the_same_quarantined_row(
    org_a: Organization, profile: PointProfile
) -> None:
    """A logger that retries (or a broker that redelivers) must not grow the open quarantine."""
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    topic = f"{root}/{org_a.credit_code}/{COAL}"
    good = json.dumps({"ts": f"{YEAR}-01-06 00:00", "value": 1.0}).encode()
    bad = json.dumps({"ts": f"{YEAR}-01-06 01:00", "value": 1000.0}).encode()  # out of range
    first = [(topic, b"not json"), (topic, bad), (topic, good)]
    second = [(topic, good), (topic, bad), (topic, b"not json")]  # other places in the batch
    for messages in (first, second):
        run_subscriber(
            Subscriber(options(root, batch_size=100, interval=30, max_messages=3, duration=20)), messages
        )
    runs = list(IngestRun.objects.filter(organization=org_a).order_by("pk"))
    assert [r.rows_quarantined for r in runs] == [2, 2]
    assert QuarantinedRow.objects.filter(organization=org_a).count() == 2
    assert {q.run_id for q in QuarantinedRow.objects.filter(organization=org_a)} == {runs[0].pk}


def test_sigterm_stores_the_qos0_messages_already_received(installation: Installation) -> None:
    """A real ``manage.py mqtt_subscribe`` and the real broker: QoS 0 messages are never sent again, so
    those received before SIGTERM once vanished with the process. Now they are stored, and it exits 0."""
    root = f"cmtest-{uuid.uuid4().hex[:10]}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django",
            "mqtt_subscribe",
            "--topic",
            f"{root}/+/+",
            "--clean-session",
            "--client-id",
            f"carbonmeter-test-{uuid.uuid4().hex[:8]}",
            "--batch-size",
            "1000",
            "--interval",
            "600",
        ],
        env=installation.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until subscribed (or the process ends)
        assert line.startswith("subscribed to"), line + (proc.stderr.read() if proc.stderr else "")

        async def publish() -> None:
            async with aiomqtt.Client(*BROKER, identifier=f"pub-{uuid.uuid4().hex[:8]}") as client:
                for h in range(3):
                    payload = json.dumps({"ts": f"{YEAR}-01-07 0{h}:00", "value": 1.0 + h, "unit": "t"})
                    await client.publish(f"{root}/{CREDIT}/P1", payload.encode(), qos=0)

        asyncio.run(publish())
        time.sleep(1.0)  # delivered on the loopback in milliseconds; the subscriber now holds them
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "3 messages, 3 rows" in out
    stored = installation.python(
        "from carbonmeter.web.readings.models import IngestRun\n"
        "print([(r.source, r.rows_total, r.rows_accepted) for r in IngestRun.objects.all()])"
    )
    assert stored.strip() == "[('mqtt', 3, 3)]"
