"""Lazy, once-per-process model slots, and the builder of the text pipeline.

Nothing loads at import time. A ``ModelSlot`` loads its object on first ``get()`` under a lock
and logs how long that took; the app's lifespan creates one ``ModelRegistry`` and may preload.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from nlp_service.settings import Settings

__all__ = ["ModelSlot", "ModelRegistry"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ModelSlot(Generic[T]):
    """Holds one lazily loaded object."""

    def __init__(self, name: str, load_fn: Callable[[], T]) -> None:
        self.name = name
        self._load_fn = load_fn
        self._value: T | None = None
        self._lock = threading.Lock()
        self.load_s: float | None = None

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    started = time.perf_counter()
                    self._value = self._load_fn()
                    self.load_s = time.perf_counter() - started
                    logger.info("loaded %s in %.2f s", self.name, self.load_s)
        return self._value


class ModelRegistry:
    """The process's models: the text pipeline, the transcriber, the embedder."""

    def __init__(self, settings: Settings) -> None:
        from nlp_service.stages import build_pipeline, build_transcriber

        self.settings = settings
        self.pipeline = ModelSlot("text pipeline", lambda: build_pipeline(settings))
        self.transcriber = ModelSlot("transcriber", lambda: build_transcriber(settings))

    def preload(self) -> None:
        p = self.pipeline.get()
        p.segmenter.cut("预热")  # jieba builds its prefix dictionary on first use
