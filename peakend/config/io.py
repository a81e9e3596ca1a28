"""Loading, merging and describing scenarios."""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from peakend.config.models import Scenario

__all__ = ["builtin_dir", "deep_merge", "load_scenario", "scenario_schema"]


def builtin_dir() -> Path:
    """Directory holding the built-in scenario files (``peakend/scenarios``)."""
    return Path(__file__).resolve().parent.parent / "scenarios"


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge nested mapping ``changes`` into ``base``, returning a new dict.

    Mappings are merged key by key, recursively; any other value (numbers,
    strings, lists) in ``changes`` replaces the one in ``base``. Every mapping in
    the result is a plain ``dict``. This is how a policy changes a scenario
    (``Scenario.model_validate(deep_merge(scenario.model_dump(), changes))``).

    Parameters
    ----------
    base : mapping
        The original nested mapping, for example ``scenario.model_dump()``.
    changes : mapping
        A partial nested mapping of changes.

    Returns
    -------
    dict
        A new nested dict; neither argument is modified.

    Examples
    --------
    >>> deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    {'a': {'b': 1, 'c': 3}}
    """
    out = _plain_copy(base)
    _merge_into(out, changes)
    return out


def _plain_copy(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Deep copy of a nested mapping, every mapping in it made a plain dict."""
    return {
        k: _plain_copy(v) if isinstance(v, Mapping) else copy.deepcopy(v)
        for k, v in mapping.items()
    }


def _merge_into(out: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Merge ``changes`` into the plain nested dict ``out`` in place (``out`` is a copy)."""
    for key, value in changes.items():
        if isinstance(value, Mapping):
            current = out.get(key)
            if isinstance(current, dict):
                _merge_into(current, value)
            else:
                out[key] = _plain_copy(value)
        else:
            out[key] = copy.deepcopy(value)


def load_scenario(name_or_path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario: a built-in name or a TOML file.

    Parameters
    ----------
    name_or_path : str or path-like
        A built-in scenario name (see :func:`peakend.scenarios.builtin_names`,
        e.g. ``"default_branch"``) or the path of a ``.toml`` scenario file.

    Returns
    -------
    Scenario
        The validated, frozen scenario.

    Raises
    ------
    FileNotFoundError
        If the name is not built in and no such file exists.
    pydantic.ValidationError
        If the file does not describe a valid scenario (the message names the field).

    Examples
    --------
    >>> import peakend as pe
    >>> pe.load_scenario("default_branch").name
    'default_branch'
    """
    text = os.fspath(name_or_path)
    builtin = builtin_dir() / f"{text}.toml"
    path = Path(text)
    if not path.suffix and builtin.is_file():
        path = builtin
    elif not path.is_file():
        names = sorted(p.stem for p in builtin_dir().glob("*.toml"))
        raise FileNotFoundError(
            f"name_or_path: {text!r} is neither a built-in scenario ({', '.join(names)}) "
            "nor an existing .toml file"
        )
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    data.setdefault("name", path.stem)
    return Scenario.model_validate(data)


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, as a dict.

    Returns
    -------
    dict
        JSON Schema (draft 2020-12) produced by pydantic for :class:`Scenario`;
        every field carries its unit and range in its description.

    Examples
    --------
    >>> import peakend as pe
    >>> "segments" in pe.scenario_schema()["properties"]
    True
    """
    return Scenario.model_json_schema()
