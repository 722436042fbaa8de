"""Figures a plugin adds to the service report (`csgw_report_sections`): `GET /api/v1/reports`
has each section's figures under its `name`, `csgw report` prints them as a table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol


class ReportSection(Protocol):
    name: str  # the key of the report's JSON
    title: str  # the heading `csgw report` prints over the table
    labels: Mapping[str, str]  # figure -> what the table calls it, in the table's order

    async def figures(self, since: datetime, until: datetime) -> dict[str, Any]:
        """The section's figures for what happened in [since, until): numbers (a `*_seconds`
        figure is printed as a duration) or None."""
        ...
