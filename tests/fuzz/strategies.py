"""Hypothesis strategies and settings shared by the parser fuzz tests."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.reliability.soak import scaled

# Modest in `make test`; `make soak` runs the same properties with many more examples.
FUZZ = settings(max_examples=int(scaled(150, 5000)), deadline=timedelta(milliseconds=1000),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=40) | st.sampled_from(["", "0", "-1", "1e400", "nan", "{}", "[1]", '{"a":1}']))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)


def objects(keys: list[str]) -> st.SearchStrategy[dict]:
    """JSON objects whose keys are mostly the ones a parser looks for."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=12), json_values, max_size=len(keys) + 2)
