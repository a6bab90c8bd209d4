"""Hypothesis strategies shared by the fuzz tests: JSON, forms, and mutated fixtures."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.channels.conftest import FIXTURES, fixture

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FORM_TEXT = st.text(max_size=40)


def webhook_fixture_names(prefixes: tuple[str, ...]) -> list[str]:
    """The fixtures that are a provider's request to us, by file name prefix."""
    names = []
    for path in sorted(FIXTURES.glob("*.json")):
        case = fixture(path.name)
        body = case.get("body")
        is_meta = isinstance(body, dict) and "entry" in body
        if path.name.startswith(prefixes) and (is_meta or "form_params" in case):
            names.append(path.name)
    return names


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree, the root included."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any, rounds: int = 3) -> Any:
    """``document`` with a few places replaced by other JSON, removed, or wrapped."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=rounds))):
        paths = _paths(result)
        path = draw(st.sampled_from(paths))
        if not path:
            return draw(JSON)
        parent = result
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "remove", "wrap", "stringify"]))
        if action == "remove":
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif action == "stringify":
            parent[last] = json.dumps(parent[last])
        else:
            parent[last] = draw(JSON)
    return result


@st.composite
def mutated_form(draw: st.DrawFn, fields: dict[str, str]) -> list[tuple[str, str]]:
    """Form fields with some dropped, changed, repeated, or added."""
    names = list(fields)
    kept = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))) if names else []
    pairs = [(name, fields[name]) for name in names if name not in kept or draw(st.booleans())]
    pairs = [
        (name, draw(FORM_TEXT | st.sampled_from(["", "-1", "1e400", "NaN", "abc", "99999999999"])))
        if draw(st.integers(0, 3)) == 0
        else (name, value)
        for name, value in pairs
    ]
    pairs += draw(
        st.lists(st.tuples(st.sampled_from([*names, "x"]) | FORM_TEXT, FORM_TEXT), max_size=3)
    )
    return pairs
