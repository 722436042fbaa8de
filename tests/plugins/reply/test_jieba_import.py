"""The reply engine imports jieba without pkg_resources, and jieba still finds its own files."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from csgw.plugins.reply import dictionary
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import Entry
assert "pkg_resources" not in sys.modules, "pkg_resources imported"
freq, total = dictionary.whole()  # jieba's dictionary file, opened by path
engine = ReplyEngine([Entry(id="ship", question="下单后多久发货", answer="48小时内")])
print(freq["发货"] > 0 and total > 10_000_000, engine.match("下单后多久发货？").entry_id)
"""


def test_jieba_comes_without_pkg_resources_and_reads_its_dictionary() -> None:
    run = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "ship"]
