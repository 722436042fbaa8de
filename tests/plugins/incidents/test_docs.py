"""The `[incidents]` the README shows and the one `csgw init` writes (uncommented) are what the
plugin reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from csgw.config.template import config_text
from csgw.plugins.incidents.config import IncidentsConfig

README = Path(__file__).parents[3] / "README.md"


def test_the_readme_example_is_a_valid_section():
    section = README.read_text(encoding="utf-8").split("\n## Incidents", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```toml\n(.*?)```", section, re.S)
    config = IncidentsConfig.model_validate(tomllib.loads(block)["incidents"])
    assert config.threshold("unanswered") == (10, 600.0) and config.threshold("entry") == (20, 600.0)
    assert not config.watches("lane") and config.watches("entry")


def test_the_init_template_example_is_a_valid_section():
    lines = config_text(demo=False).split("# [incidents]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    block = "[incidents]\n" + "\n".join(line.removeprefix("# ") for line in lines)
    config = IncidentsConfig.model_validate(tomllib.loads(block)["incidents"])
    assert config.threshold("lane") == (10, 600.0) and config.close_after_quiet_minutes == 30
