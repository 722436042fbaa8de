"""`${ENV_NAME}` substitution in configuration values, so secrets stay out of the file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def interpolate(value: Any, problems: list[str], key: str = "", env: Mapping[str, str] | None = None) -> Any:
    """Return `value` with every `${NAME}` replaced; a missing variable is recorded in `problems`."""
    env = os.environ if env is None else env
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(f"{key or '(top level)'}: environment variable {name} is not set")
                return ""
            return env[name]

        return _PATTERN.sub(substitute, value)
    if isinstance(value, dict):
        return {k: interpolate(v, problems, f"{key}.{k}" if key else k, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, problems, f"{key}[{i}]", env) for i, v in enumerate(value)]
    return value
