"""CSV cells are safe to open in a spreadsheet: no formula runs, no NUL byte survives."""

from __future__ import annotations

import csv
import io

from csgw.cli.history_io import spreadsheet_cell, spreadsheet_rows


def test_formula_cells_are_shown_not_run() -> None:
    for hostile in ("=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_cell(hostile) == "'" + hostile
    for harmless in ("你好", "退款 -> 已处理", "a=b", "", "1-2"):
        assert spreadsheet_cell(harmless) == harmless
    assert spreadsheet_cell(42) == 42 and spreadsheet_cell(None) is None


def test_nul_bytes_are_dropped_and_rows_round_trip() -> None:
    rows = spreadsheet_rows([{"text": "a\x00b", "sender": "customer"}, {"text": "=1+1", "sender": "bot"}])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["text", "sender"])
    writer.writeheader()
    writer.writerows(rows)
    back = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["text"] for row in back] == ["ab", "'=1+1"]
