"""Consume object-created events from Kafka and load the files they name, exactly once.

Messages are S3/MinIO notification JSON, `{"uri": ...}` / `{"path": ...}`, or a plain
line naming a file. The offset is committed only after the load committed; a
redelivered event finds the bytes in the ledger and loads nothing; a message that
cannot be acted on goes to the dead-letter topic with its reason.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from salespipe.config.model import Config, KafkaTrigger, Source
from salespipe.errors import MissingExtraError, SalespipeError
from salespipe.landing import LandedFile, store_for
from salespipe.landing.local import LocalStore
from salespipe.landing.s3 import S3Store, split_uri
from salespipe.triggers import RunFiles, RunHook, run_in_process

log = logging.getLogger("salespipe.kafka")


class PoisonMessage(Exception):
    """A message that no retry can make loadable."""


def parse_event(value: bytes | None) -> list[str]:
    """The file URIs a message names."""
    if not value:
        raise PoisonMessage("empty message")
    try:
        text = value.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PoisonMessage("message is not UTF-8 text") from None
    if not text.startswith(("{", "[")):
        if "\n" in text or not text:
            raise PoisonMessage("a plain message must name exactly one file")
        return [text]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoisonMessage(f"not valid JSON: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("Records"), list):
        uris = []
        for record in data["Records"]:
            try:
                if not str(record.get("eventName", "ObjectCreated")).startswith(
                    ("ObjectCreated", "s3:ObjectCreated")
                ):
                    continue
                bucket = record["s3"]["bucket"]["name"]
                key = unquote_plus(record["s3"]["object"]["key"])
            except (KeyError, TypeError):
                raise PoisonMessage(
                    "an S3 event record without s3.bucket.name and s3.object.key"
                ) from None
            uris.append(f"s3://{bucket}/{key}")
        if not uris and data["Records"]:
            return []  # e.g. ObjectRemoved: nothing to load, not an error
        if not uris:
            raise PoisonMessage("an S3 event with no records")
        return uris
    if isinstance(data, dict):
        for name in ("uri", "path", "file", "Key"):
            if isinstance(data.get(name), str):
                value_ = data[name]
                return [value_ if name != "Key" or value_.startswith("s3://") else f"s3://{value_}"]
    raise PoisonMessage("JSON message names no file (expected S3 Records, 'uri' or 'path')")


@dataclass
class Resolver:
    """Map a URI to the source whose landing holds it."""

    config: Config
    # One S3 client per source for the consumer's life: a new one costs more than the HEAD.
    _stores: dict[str, S3Store] = field(default_factory=dict)

    def connect(self) -> None:
        """Open the S3 clients now, so the first event does not wait for them."""
        for source in self.config.sources:
            if source.landing.startswith("s3://"):
                try:
                    self._s3_store(source).fs.connect()
                except Exception as exc:  # the first event connects again, and says why
                    log.warning("kafka: cannot reach the landing of %s yet: %s", source.name, exc)

    def _s3_store(self, source: Source) -> S3Store:
        store = self._stores.get(source.name)
        if store is None:
            found = store_for(self.config, source)
            assert isinstance(found, S3Store)
            store = self._stores[source.name] = found
        return store

    def resolve(self, uri: str) -> tuple[Source, LandedFile] | None:
        """The source and file for a URI; None when the file is gone but was already loaded."""
        import fnmatch

        from salespipe.landing import DEFAULT_PATTERNS

        for source in self.config.sources:
            pattern = source.pattern or DEFAULT_PATTERNS[source.format]
            if uri.startswith("s3://") and source.landing.startswith("s3://"):
                bucket, prefix = split_uri(source.landing)
                ub, ukey = split_uri(uri)
                folder, _, name = ukey.rpartition("/")
                if (
                    ub != bucket
                    or folder != prefix.rstrip("/")
                    or not fnmatch.fnmatch(name, pattern)
                ):
                    continue
                store = self._s3_store(source)
                try:
                    info = store.fs.info(uri.removeprefix("s3://"))
                except FileNotFoundError:
                    _gone(uri)
                    return None
                return source, LandedFile(
                    uri=uri, name=name, size=int(info.get("size") or 0), store=store
                )
            if not uri.startswith("s3://") and not source.landing.startswith("s3://"):
                path = Path(uri)
                if not path.is_absolute():
                    path = self.config.resolve(path)
                folder_path = Path(self.config.resolve(source.landing)).resolve()
                if path.parent.resolve() != folder_path or not fnmatch.fnmatch(path.name, pattern):
                    continue
                if not path.is_file():
                    _gone(uri)
                    return None
                return source, LandedFile(
                    uri=str(path),
                    name=path.name,
                    size=path.stat().st_size,
                    store=LocalStore(folder_path),
                    path=path,
                )
        raise PoisonMessage(f"no source lands {uri} (check the sources' landing and pattern)")


def _gone(uri: str) -> None:
    """An event for a file that is not there: a redelivery of a file loaded and archived
    since (nothing to do), or a file that never landed. Said, not silently dropped."""
    log.warning(
        "kafka: %s is not there: already loaded and archived, or it never landed; nothing loaded",
        uri,
    )


class _Throttled(logging.Filter):
    """librdkafka repeats a refused connection many times a second: one line per message
    text a minute."""

    def __init__(self, seconds: float = 60.0) -> None:
        super().__init__()
        self.seconds = seconds
        self.last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        import time

        key = record.getMessage()[-120:]
        now = time.monotonic()
        if now - self.last.get(key, -self.seconds) < self.seconds:
            return False
        self.last[key] = now
        return True


def _client_logger() -> logging.Logger:
    client = logging.getLogger("salespipe.kafka.client")
    if not any(isinstance(f, _Throttled) for f in client.filters):
        client.addFilter(_Throttled())
    return client


def _consumer_settings(trigger: KafkaTrigger, extra: dict[str, Any] | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "bootstrap.servers": trigger.bootstrap_servers,
        "group.id": trigger.group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        # A dead consumer's partitions move after 10 s, not librdkafka's 45 s, so a restarted
        # server is back on its events sooner (a broker may hold a join for most of it).
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 3_000,
        # the client's own messages (an unreachable broker) go through logging, throttled
        "logger": _client_logger(),
    }
    settings.update(extra or {})
    return settings


def _log_assignment(_consumer: Any, partitions: list[Any]) -> None:
    # Events published from now on are consumed at once: the group has been joined.
    topics = sorted({p.topic for p in partitions})
    log.info(
        "kafka: consuming %s (partitions %s)",
        ", ".join(topics),
        ", ".join(str(p.partition) for p in partitions) or "none",
    )


@dataclass
class EventConsumer:
    config: Config
    # How a run reaches the warehouse; default: open it per run (a server passes its writer).
    run_files: RunFiles | None = None
    on_run: RunHook | None = None
    consumer_settings: dict[str, Any] | None = None

    def run_forever(self, stop: threading.Event, max_messages: int | None = None) -> int:
        """Consume until `stop` is set (or `max_messages` were handled); returns messages handled."""
        try:
            from confluent_kafka import Consumer, Producer
        except ImportError:
            raise MissingExtraError("confluent-kafka", "kafka") from None
        trigger = self.config.triggers.kafka if self.config.triggers else None
        if trigger is None:
            raise SalespipeError(
                "no Kafka trigger configured", hint="add triggers.kafka to salespipe.yaml"
            )
        consumer = Consumer(_consumer_settings(trigger, self.consumer_settings))
        producer = (
            Producer({"bootstrap.servers": trigger.bootstrap_servers, "logger": _client_logger()})
            if trigger.dead_letter_topic
            else None
        )
        consumer.subscribe([trigger.topic], on_assign=_log_assignment)
        resolver = Resolver(self.config)
        resolver.connect()
        handled = 0
        try:
            while not stop.is_set() and (max_messages is None or handled < max_messages):
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    log.warning("kafka: %s", msg.error())
                    continue
                self.handle(msg, resolver, producer, trigger)
                consumer.commit(message=msg, asynchronous=False)
                handled += 1
        finally:
            consumer.close()
            if producer is not None:
                producer.flush(10)
        return handled

    def handle(self, msg: Any, resolver: Resolver, producer: Any, trigger: KafkaTrigger) -> None:
        try:
            uris = parse_event(msg.value())
            work = [w for w in (resolver.resolve(u) for u in uris) if w is not None]
            if not work:
                return  # the event names files already loaded and archived: a redelivery
            run = self.run_files or run_in_process(self.config)
            result = run(work, "kafka")
            if self.on_run:
                self.on_run(result)
        except PoisonMessage as exc:
            self.dead_letter(msg, str(exc), producer, trigger)
        except SalespipeError as exc:
            # A file-level problem is recorded in the ledger by the run; anything that
            # stops the run itself makes the message undeliverable as it stands.
            self.dead_letter(msg, str(exc), producer, trigger)

    @staticmethod
    def dead_letter(msg: Any, reason: str, producer: Any, trigger: KafkaTrigger) -> None:
        log.warning(
            "kafka: %s %s[%s]@%s: %s",
            "dead-lettering"
            if producer is not None and trigger.dead_letter_topic
            else "dropping (no dead_letter_topic)",
            msg.topic(),
            msg.partition(),
            msg.offset(),
            reason,
        )
        if producer is None or not trigger.dead_letter_topic:
            return
        payload = {
            "reason": reason,
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "value": (msg.value() or b"").decode("utf-8", errors="replace"),
        }
        producer.produce(trigger.dead_letter_topic, json.dumps(payload).encode(), key=msg.key())
        producer.flush(10)
