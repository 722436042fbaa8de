"""Tables the matcher derives from its libraries' data (jieba's dictionary, pinyin per
character) and from the knowledge base (retrieval's word index), built once and kept as marshal
files in the data directory.

Loading those libraries' own way costs most of a second per process: jieba reads its cache with
`marshal.load` on an open file, a piece at a time (0.5–0.6 s here), and pypinyin imports its
phrase dictionary (0.15–0.2 s) even for single characters. Read whole and unmarshalled, the same
tables take about 0.15 s and 0.01 s. Each file is named after what it was built from (a library's
version, its data file), so an upgrade builds a new one; a missing, unreadable or foreign file is
rebuilt and rewritten. A table of the knowledge base keeps only its newest file: each edit of
the KB would otherwise leave one behind.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")

_directory: Path | None = None


def keep_in(directory: str | Path) -> None:
    """Where the files live (the gateway's data directory); until set, the temp directory."""
    global _directory
    _directory = Path(directory)


def in_data_directory() -> bool:
    """Whether the files go to a gateway's data directory (`keep_in` was called)."""
    return _directory is not None


def cached(name: str, built_from: str, build: Callable[[], T], valid: Callable[[Any], bool], *,
           newest_only: bool = False) -> T:
    """The table `build` makes, from its file when one built from the same `built_from` is there
    and `valid` accepts what it holds; with `newest_only`, writing it removes the files `name`
    had from other sources."""
    key = hashlib.sha256(built_from.encode()).hexdigest()[:16]
    path = (_directory or Path(tempfile.gettempdir())) / f"csgw-{name}-{key}.cache"
    try:
        table = marshal.loads(path.read_bytes())
        if valid(table):
            return table
    except (OSError, EOFError, ValueError, TypeError):
        pass  # not there yet, or not ours: build it
    table = build()
    if _save(path, table) and newest_only:
        _remove_older(path, name)
    return table


def forget(name: str) -> None:
    """Remove the files of a table no longer kept under `name` (its format changed): each is
    built from its library's data and is only a cache."""
    folder = _directory or Path(tempfile.gettempdir())
    for path in folder.glob(f"csgw-{name}-*.cache"):
        if re.fullmatch(rf"csgw-{re.escape(name)}-[0-9a-f]{{16}}\.cache", path.name):
            try:
                path.unlink(missing_ok=True)
            except OSError:  # a read-only data directory: left where it is
                pass


def _save(path: Path, table: Any) -> bool:
    """Write beside, then rename: a reader never sees half a file, and two writers both win."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(table))
        os.replace(partial, path)
        return True
    except (OSError, ValueError) as exc:  # a read-only data directory: built again next time
        log.warning("matcher cache not written", path=str(path), error=str(exc))
        return False


def _remove_older(kept: Path, name: str) -> None:
    for path in kept.parent.glob(f"csgw-{name}-*.cache"):
        if path != kept:
            path.unlink(missing_ok=True)
