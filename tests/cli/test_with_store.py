"""`with_store` runs a command's work with the store open and hands back what it made."""

from __future__ import annotations

from csgw.commands import with_store
from csgw.config.loader import load_settings


class Expensive:
    """A result whose repr costs: as a 1,000-entry knowledge base's does."""

    shown = 0

    def __repr__(self) -> str:
        Expensive.shown += 1
        return "Expensive()"


def test_the_work_s_result_is_handed_back_without_being_formatted(tmp_path):
    # asyncio.run's SIGINT handling formats its main task's repr, the task's result with it: the
    # result must not be the task's
    (tmp_path / "csgw.toml").write_text('[server]\ndata_dir = "./data"\n', encoding="utf-8")
    settings = load_settings(tmp_path / "csgw.toml")

    async def work() -> Expensive:
        return Expensive()

    made = with_store(settings, work)
    assert isinstance(made, Expensive) and Expensive.shown == 0
