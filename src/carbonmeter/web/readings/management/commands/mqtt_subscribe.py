"""``manage.py mqtt_subscribe``: store the readings plants publish on MQTT (``carbonmeter/<code>/<point>``).

Runs until stopped (a service unit restarts it); ``--max-messages`` / ``--duration`` bound a run, for a
catch-up or a test.  The broker's password comes from ``CARBONMETER_MQTT_PASSWORD`` so it is not visible in
the process list.  SIGTERM (or Ctrl-C) stops it cleanly: what was received is stored first.
See :mod:`carbonmeter.web.readings.mqtt` for batching, acknowledgement and what happens to
bad payloads and unknown organizations.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError, CommandParser

from carbonmeter.web.readings.mqtt import DEFAULT_TOPIC, Options, Subscriber


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise ValueError(text)
        return value

    parse.__name__ = kind.__name__
    return parse


class Command(BaseCommand):
    help = "订阅 MQTT 计量数据（carbonmeter/<统一社会信用代码>/<计量点>），按单位分批写入批次链。"

    def add_arguments(self, parser: CommandParser) -> None:
        env = os.environ.get
        parser.add_argument("--host", default=env("CARBONMETER_MQTT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(env("CARBONMETER_MQTT_PORT", "1883")))
        parser.add_argument("--topic", default=DEFAULT_TOPIC, help=f"topic filter (default {DEFAULT_TOPIC})")
        parser.add_argument("--username", default=env("CARBONMETER_MQTT_USERNAME"))
        parser.add_argument("--client-id", default="carbonmeter-ingest", help="persistent session id")
        parser.add_argument(
            "--clean-session",
            action="store_true",
            help="no persistent session: messages missed while stopped are not redelivered",
        )
        parser.add_argument(
            "--batch-size", type=_positive(int), default=20, help="flush after this many messages"
        )
        parser.add_argument(
            "--interval", type=_positive(float), default=5.0, help="flush after this many seconds"
        )
        parser.add_argument("--max-messages", type=_positive(int), help="stop after this many messages")
        parser.add_argument("--duration", type=_positive(float), help="stop after this many seconds")

    def handle(self, *args: Any, **opts: Any) -> None:
        options = Options(
            host=opts["host"],
            port=opts["port"],
            topic=opts["topic"],
            username=opts["username"],
            password=os.environ.get("CARBONMETER_MQTT_PASSWORD"),
            client_id=opts["client_id"],
            persistent=not opts["clean_session"],
            batch_size=opts["batch_size"],
            interval=opts["interval"],
            max_messages=opts["max_messages"],
            duration=opts["duration"],
        )
        subscriber = Subscriber(options)

        def stop(signum: int, _frame: Any) -> None:
            # A service manager stops us with SIGTERM: store what was received (QoS 0 messages are never
            # sent again), then exit 0.
            subscriber.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            stats = async_to_sync(self._run)(subscriber)
        except OSError as e:
            raise CommandError(f"MQTT broker {options.host}:{options.port}: {e}") from e
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(stats.summary())

    async def _run(self, subscriber: Subscriber) -> Any:
        async def announce() -> None:
            await subscriber.ready.wait()
            self.stdout.write(f"subscribed to {subscriber.options.topic}")
            self.stdout.flush()

        announcing = asyncio.create_task(announce())
        try:
            return await subscriber.run()
        finally:
            announcing.cancel()
