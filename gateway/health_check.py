"""What a health check is: the core's contract with the health monitor and with plugins
(`csgw_health_checks`), so the core can report on itself without importing the monitor."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: str
    value: float | int | str | None = None
    threshold: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class HealthCheck(Protocol):
    name: str

    async def run(self) -> CheckResult | list[CheckResult]: ...
