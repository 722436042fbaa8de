"""A dict that forgets its least recently stored keys beyond a size: the gateway's in-memory caches."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class BoundedCache(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)
