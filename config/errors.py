"""The error a bad configuration raises: one line per mistake, naming file and key."""

from __future__ import annotations


class ConfigError(Exception):
    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))

    @property
    def lines(self) -> list[str]:
        return [f"{self.path}: {p}" for p in self.problems]
