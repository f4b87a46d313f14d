"""Alert fan-out across replicas over Redis pub/sub.

Each replica publishes the alerts it raises to one channel and relays the ones other replicas
raised to its own live subscribers, so an SSE client connected to replica A sees an alert raised
on replica B. Pub/sub is fire-and-forget: a client that was disconnected catches up from the
database with ``Last-Event-ID`` (alerts are stored before they are published).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

from nlp_service.alert_engine import AlertBus

__all__ = ["RedisAlertBridge", "CHANNEL"]

logger = logging.getLogger(__name__)
CHANNEL = "nlp-service:alerts"


class RedisAlertBridge:
    def __init__(self, url: str, bus: AlertBus) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                           health_check_interval=30)
        self.bus = bus
        self.origin = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="redis-alerts", daemon=True)
        self._ready = threading.Event()

    def start(self, timeout_s: float = 5.0) -> None:
        self.bus.remote_publish = self.publish
        self._thread.start()
        self._ready.wait(timeout_s)

    def publish(self, alert: dict[str, Any]) -> None:
        self.client.publish(CHANNEL, json.dumps({"origin": self.origin, "alert": alert}, ensure_ascii=False))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self._ready.set()
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if not msg or msg.get("type") != "message":
                        continue
                    try:
                        data = json.loads(msg["data"])
                    except (ValueError, TypeError):
                        continue
                    if data.get("origin") != self.origin and isinstance(data.get("alert"), dict):
                        self.bus.publish_local(data["alert"])
                pubsub.close()
            except Exception:  # noqa: BLE001 - reconnect after Redis restarts
                logger.warning("redis alert subscription lost; reconnecting")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)
        self.bus.remote_publish = None
        self.client.close()
