"""jieba, imported without pkg_resources.

jieba imports pkg_resources only to open its own data files (its dictionary), and opens them by
path when that import fails; pkg_resources alone takes ~0.1 s to import (it reads every installed
distribution's metadata) in every process that matches, `csgw kb test` included. This package
imports this module first (`__init__`), so each of its modules that imports jieba gets it so.
"""

from __future__ import annotations

import importlib
import sys


def _import_jieba() -> None:
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        return  # already imported (or already paid for): nothing to spare
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # `import pkg_resources` fails
    try:
        importlib.import_module("jieba")
    finally:
        del sys.modules["pkg_resources"]


_import_jieba()
