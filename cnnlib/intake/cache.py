"""Uploaded models kept in memory under a total byte budget, shared by every session.

A model's size is the bytes of its weights (the sum of its variables' ``nbytes``).
The least recently used models leave first; a model larger than the whole budget
is not kept (the caller explores it without caching it).
"""

from __future__ import annotations

import collections
import threading

import numpy as np

from cnnlib.intake.limits import _env_int

ENV_UPLOAD_CACHE_MB = "CNN_STUDIO_UPLOAD_CACHE_MB"
DEFAULT_UPLOAD_CACHE_MB = 1024


def model_bytes(model) -> int:
    """The bytes of a model's weights: the sum over its variables of ``size * itemsize``."""
    total = 0
    for v in model.weights:
        count = 1
        for d in v.shape:
            count *= int(d)
        total += count * np.dtype(v.dtype).itemsize
    return total


class ModelCache:
    """A thread-safe LRU of models keyed by an upload's SHA-256, bounded in bytes.

    Args:
        budget_bytes: the most weight bytes kept together (default
            ``CNN_STUDIO_UPLOAD_CACHE_MB``, 1024 MB).
    """

    def __init__(self, budget_bytes: int | None = None):
        self.budget = budget_bytes if budget_bytes is not None else \
            _env_int(ENV_UPLOAD_CACHE_MB, DEFAULT_UPLOAD_CACHE_MB) * 2**20
        self._items: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        with self._lock:
            return sum(size for _, size in self._items.values())

    def get(self, key: str):
        """The value kept under ``key``, or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: str, value, size: int) -> bool:
        """Keep ``value`` (a model, or what was built from it) of ``size`` bytes under
        ``key``, dropping the least recently used ones to fit.

        Returns:
            False (and nothing kept) when ``size`` alone is over the budget.
        """
        if size > self.budget:
            return False
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (value, size)
            while sum(s for _, s in self._items.values()) > self.budget:
                self._items.popitem(last=False)
        return True
