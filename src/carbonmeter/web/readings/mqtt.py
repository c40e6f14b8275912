"""MQTT subscriber: readings published by the plants' data loggers, stored through the one ingest.

Topic ``carbonmeter/<credit code>/<point>``, payload a JSON object ``{"ts", "value", "unit", "quantity"}``
or a list of them (docs/specs/readings.md).  Messages are buffered per organization and flushed to
``services.ingest(source="mqtt")`` every ``batch_size`` messages or ``interval`` seconds, whichever comes
first, so a batch is a few seconds of one plant's data rather than one row.

What is never lost:

* **Bad payloads** (not UTF-8, not JSON, an empty list, a list holding something other than objects)
  become rows of the batch that the ingest quarantines (RD-PARSE, saying which) with the payload kept as
  received — its exact bytes in base64 when it is not text — fixable on the quarantine page like any
  uploaded row, instead of disappearing in a log.
* **QoS 1 end to end**: the broker's messages are acknowledged only after the batch holding them is
  committed (paho's manual acknowledgement, reached through aiomqtt's client).  If the process dies before
  a flush, the broker redelivers the unacknowledged messages to the next run of the same persistent
  session (``clean_session=False`` with a fixed client id); a redelivered reading that was in fact stored
  is a ``duplicate`` for the ingest, never a second copy.  Because the broker stops sending when too
  many messages are unacknowledged (Mosquitto: ``max_inflight_messages``, 20 by default), the default
  ``batch_size`` is 20; ``interval`` bounds the wait when fewer arrive.
* **Unknown organizations** (no organization with that credit code) cannot be quarantined — a quarantined
  row belongs to an organization — so they are logged and counted (``Stats.unknown``) and acknowledged.

Database work runs through ``sync_to_async`` (thread-sensitive), so the management command drives the loop
with ``async_to_sync`` and the ORM stays on one thread.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiomqtt
from asgiref.sync import sync_to_async

from carbonmeter.readings.ingest import IngestError, RejectedRow
from carbonmeter.web.readings import services
from carbonmeter.web.readings.models import IngestRun
from carbonmeter.web.registry.models import Organization

log = logging.getLogger(__name__)

DEFAULT_TOPIC: Final = "carbonmeter/+/+"
#: The payload keys that become cells; anything else in an object is ignored (and logged once per run).
PAYLOAD_KEYS: Final = ("quantity", "ts", "value", "unit", "sample_id", "analyzed_at", "laboratory")
#: Seconds without a message that end the draining on stop.
DRAIN_QUIET: Final = 0.3
#: Characters of a bad payload quoted in its reason (the quarantined row keeps all of it).
SHOWN: Final = 200


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 1883
    topic: str = DEFAULT_TOPIC
    username: str | None = None
    password: str | None = None
    client_id: str = "carbonmeter-ingest"
    #: Persistent session: unacknowledged messages are redelivered after a restart.
    persistent: bool = True
    batch_size: int = 20
    interval: float = 5.0
    #: Stop after this many messages (None: run until cancelled); for tests and one-off catch-ups.
    max_messages: int | None = None
    #: Stop after this many seconds (None: run until cancelled).
    duration: float | None = None


@dataclass
class Stats:
    """What a run did: messages, batches (ingest runs), rows, and messages for unknown organizations."""

    messages: int = 0
    rows: int = 0
    bad_payloads: int = 0
    runs: list[int] = field(default_factory=list)
    unknown: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        unknown = ", ".join(f"{code}×{n}" for code, n in sorted(self.unknown.items())) or "none"
        return (
            f"{self.messages} messages, {self.rows} rows ({self.bad_payloads} bad payloads), "
            f"{len(self.runs)} ingest runs, unknown organizations: {unknown}"
        )


def topic_parts(topic: str) -> tuple[str, str] | None:
    """``(credit code, point)`` from ``…/<credit code>/<point>``; None when the topic has fewer levels."""
    levels = topic.split("/")
    if len(levels) < 3 or not levels[-2] or not levels[-1]:
        return None
    return levels[-2], levels[-1]


def payload_rows(
    point: str, payload: bytes | bytearray | str
) -> tuple[list[dict[str, Any] | RejectedRow], int]:
    """The rows of one message and how many of them are bad payloads, kept for the ingest to quarantine.

    The point always comes from the topic (a ``point`` key in the payload is ignored: the topic is what the
    broker's access rules protect). A payload that is not UTF-8, not JSON, an empty list or a list holding
    something other than objects becomes a :class:`RejectedRow` saying so, with the payload as received: as
    text when it is text, else escaped (``\\xNN``) beside its exact bytes in base64.
    """
    raw = bytes(payload) if isinstance(payload, bytes | bytearray) else payload.encode("utf-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        kept = _kept(point, raw, raw.decode("utf-8", errors="backslashreplace"))
        return [RejectedRow("payload_utf8", {"byte": exc.start, "text": _cut(kept["payload"])}, kept)], 1
    kept = _kept(point, raw, text)
    text = kept["payload"]
    try:
        data = json.loads(text)
    except ValueError as exc:
        detail = (
            f"{exc.msg}: line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        return [RejectedRow("payload_json", {"detail": detail or str(exc), "text": _cut(text)}, kept)], 1
    except RecursionError:
        return [RejectedRow("payload_json", {"detail": "nested too deep", "text": _cut(text)}, kept)], 1
    items = data if isinstance(data, list) else [data]
    if not items:
        return [RejectedRow("payload_empty", {"text": _cut(text)}, kept)], 1
    rows: list[dict[str, Any] | RejectedRow] = []
    bad = 0
    for item in items:
        if isinstance(item, Mapping):
            rows.append({"point": point, **{k: item[k] for k in PAYLOAD_KEYS if k in item}})
        else:
            shown = json.dumps(item, ensure_ascii=False)
            rows.append(
                RejectedRow("payload_item", {"text": _cut(shown)}, {"point": point, "payload": shown})
            )
            bad += 1
    return rows, bad


def _kept(point: str, raw: bytes, text: str) -> dict[str, str]:
    """A bad payload as a quarantined row keeps it: the text, escaped where it is not text — a NUL as
    ``\\x00`` too (PostgreSQL cannot store it) — and then the exact bytes in base64 beside it."""
    if "\x00" not in text and text.encode("utf-8") == raw:
        return {"point": point, "payload": text}
    shown = text.replace("\x00", "\\x00")
    return {"point": point, "payload": shown, "payload_base64": base64.b64encode(raw).decode("ascii")}


def _cut(text: str) -> str:
    """A payload quoted in a reason: at most :data:`SHOWN` characters (the whole is in the row's cells)."""
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


@dataclass
class _Buffer:
    rows: list[dict[str, Any] | RejectedRow] = field(default_factory=list)
    #: (message id, QoS) of the messages whose rows are buffered: acknowledged after the flush.
    acks: list[tuple[int, int]] = field(default_factory=list)
    since: float = 0.0


#: ``flush(org_pk, rows) -> IngestRun``: how a batch is stored (the ingest service, in production).
Flush = Callable[[int, list[dict[str, Any] | RejectedRow]], IngestRun]


def ingest_rows(org_pk: int, rows: list[dict[str, Any] | RejectedRow]) -> IngestRun:
    """Store one organization's buffered rows as one MQTT batch."""
    org = Organization.objects.get(pk=org_pk)
    topic = f"carbonmeter/{org.credit_code}"
    return services.ingest(org, source="mqtt", rows=rows, filename=topic)


def organization_pk(credit_code: str) -> int | None:
    pk = (
        Organization.objects.filter(credit_code=credit_code, archived=False)
        .values_list("pk", flat=True)
        .first()
    )
    return int(pk) if pk is not None else None


class Subscriber:
    """One connection to the broker, its per-organization buffers and the flush loop."""

    def __init__(self, options: Options, flush: Flush = ingest_rows) -> None:
        self.options = options
        self.flush_rows = flush
        self.stats = Stats()
        self.ready = asyncio.Event()
        self._buffers: dict[int, _Buffer] = {}
        self._orgs: dict[str, int] = {}
        self._client: aiomqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[aiomqtt.Message | None] | None = None
        self._stopping = False

    def stop(self) -> None:
        """Stop soon, from any thread or a signal handler (SIGTERM): stop subscribing, take every message
        already received, flush them all and return. A QoS 0 message is never redelivered, so one that
        arrived must be stored before the process ends; QoS 1 ones are then acknowledged, not redelivered."""
        self._stopping = True
        loop, queue = self._loop, self._queue
        if loop is not None and queue is not None and not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, None)

    async def run(self) -> Stats:
        """Subscribe, buffer and flush until cancelled or a bound (messages, duration) is reached; flush
        what is buffered before returning."""
        o = self.options
        client = aiomqtt.Client(
            o.host,
            o.port,
            username=o.username,
            password=o.password,
            identifier=o.client_id,
            clean_session=not o.persistent,
        )
        # Acknowledge a message only once its batch is committed (see the module docstring).
        client._client.manual_ack_set(True)
        self._client = client
        self._loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            async with client:
                await client.subscribe(o.topic, qos=1)
                log.info("subscribed to %s on %s:%s", o.topic, o.host, o.port)
                queue: asyncio.Queue[aiomqtt.Message | None] = asyncio.Queue()
                self._queue = queue
                pump = asyncio.create_task(self._pump(client, queue))
                self.ready.set()
                try:
                    while not self._done(started) and not self._stopping:
                        # Waiting on our own queue, not on the client's iterator: a timed-out
                        # ``Queue.get`` never swallows a message that arrived at that instant.
                        try:
                            message = await asyncio.wait_for(queue.get(), self._wait(started))
                        except TimeoutError:
                            message = None
                        if message is not None:
                            await self._take(message)
                        elif pump.done():
                            pump.result()  # the connection is gone: raise its error
                        await self._flush_due()
                    if self._stopping:
                        await self._drain(client, queue, pump)
                    await self._flush_all()
                finally:
                    pump.cancel()
        finally:
            self._client = None
            self._queue = None
        return self.stats

    async def _drain(
        self,
        client: aiomqtt.Client,
        queue: asyncio.Queue[aiomqtt.Message | None],
        pump: asyncio.Task[None],
    ) -> None:
        """On :meth:`stop`: unsubscribe (the broker's UNSUBACK follows every message it sent before), then
        take what is still queued, until the queue stays empty for a moment."""
        if not pump.done():
            try:
                await asyncio.wait_for(client.unsubscribe(self.options.topic), 5)
            except (TimeoutError, aiomqtt.MqttError):
                log.warning("MQTT: no answer to unsubscribing; taking what was received")
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), DRAIN_QUIET)
            except TimeoutError:
                return
            if message is not None:
                await self._take(message)

    @staticmethod
    async def _pump(client: aiomqtt.Client, queue: asyncio.Queue[aiomqtt.Message | None]) -> None:
        async for message in client.messages:
            await queue.put(message)

    # -- timing ---------------------------------------------------------------------------------------

    def _done(self, started: float) -> bool:
        o = self.options
        if o.max_messages is not None and self.stats.messages >= o.max_messages:
            return True
        return o.duration is not None and time.monotonic() - started >= o.duration

    def _wait(self, started: float) -> float:
        """Seconds until the next buffer falls due or the run's duration ends (at most ``interval``)."""
        now = time.monotonic()
        waits = [self.options.interval]
        waits += [b.since + self.options.interval - now for b in self._buffers.values() if b.rows]
        if self.options.duration is not None:
            waits.append(started + self.options.duration - now)
        return max(min(waits), 0.01)

    # -- messages -------------------------------------------------------------------------------------

    async def _org(self, credit_code: str) -> int | None:
        if credit_code in self._orgs:
            return self._orgs[credit_code]
        pk = await sync_to_async(organization_pk, thread_sensitive=True)(credit_code)
        if pk is not None:
            self._orgs[credit_code] = pk
        return pk

    async def _take(self, message: aiomqtt.Message) -> None:
        self.stats.messages += 1
        parts = topic_parts(str(message.topic))
        org = await self._org(parts[0]) if parts else None
        if parts is None or org is None:
            code = parts[0] if parts else str(message.topic)
            self.stats.unknown[code] += 1
            log.warning("MQTT message for an unknown organization on %s: not stored", message.topic)
            self._ack([(message.mid, message.qos)])
            return
        payload = message.payload if isinstance(message.payload, bytes | bytearray | str) else b""
        rows, bad = payload_rows(parts[1], payload)
        self.stats.rows += len(rows)
        self.stats.bad_payloads += bad
        buffer = self._buffers.setdefault(org, _Buffer())
        if not buffer.rows:
            buffer.since = time.monotonic()
        buffer.rows.extend(rows)
        buffer.acks.append((message.mid, message.qos))
        if len(buffer.acks) >= self.options.batch_size or len(buffer.rows) >= self.options.batch_size:
            await self._flush(org)

    def _ack(self, acks: list[tuple[int, int]]) -> None:
        """PUBACK the messages (QoS 0 needs none: paho ignores those)."""
        if self._client is None:
            return
        for mid, qos in acks:
            self._client._client.ack(mid, qos)

    # -- flushing -------------------------------------------------------------------------------------

    async def _flush(self, org: int) -> None:
        buffer = self._buffers.pop(org, None)
        if buffer is None or not buffer.rows:
            return
        # An exception here propagates: the messages stay unacknowledged and are redelivered on restart
        # (a database that is down). Every row the messages can hold is judged by the ingest, so no
        # message can fail this for ever; a source the ingest cannot read at all (IngestError) is logged
        # and acknowledged rather than redelivered to fail again.
        try:
            run = await sync_to_async(self.flush_rows, thread_sensitive=True)(org, buffer.rows)
        except IngestError as exc:
            log.error("MQTT batch for organization %s refused whole: %s", org, exc.message("en"))
            self._ack(buffer.acks)
            return
        self.stats.runs.append(run.pk)
        log.info(
            "MQTT batch for organization %s: %d rows, %d accepted, %d duplicate, %d quarantined",
            org,
            run.rows_total,
            run.rows_accepted,
            run.rows_duplicate,
            run.rows_quarantined,
        )
        self._ack(buffer.acks)

    async def _flush_due(self) -> None:
        now = time.monotonic()
        for org in [o for o, b in self._buffers.items() if b.rows and now - b.since >= self.options.interval]:
            await self._flush(org)

    async def _flush_all(self) -> None:
        for org in list(self._buffers):
            await self._flush(org)
