"""Changing a scenario by a nested partial table: what a policy does.

:func:`apply_changes` merges a change table into a scenario, strictly:

- a change may only name fields and entries that exist; an unknown field, segment,
  business type or counter group is an error naming its path, the valid names and
  the closest one ("did you mean");
- new segments, business types and counter groups are added under the reserved
  top-level key ``add`` (``{"add": {"counters": {"gold": {...}}}}``);
- a table that names a ``kind`` at a distribution (``service``, ``renege``) replaces the
  distribution; without ``kind`` it changes fields of the current one;
- tables of plain values with free keys (``business_mix``, ``expectations``,
  ``memory.params``) merge key by key; lists and values replace;
- the result is validated strictly (no ``"30"`` for 30, no ``true`` for 1).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from peakend.config.errors import ConfigError, did_you_mean, error_lines, node_of
from peakend.config.models import BusinessType, CounterGroup, Scenario, Segment

__all__ = ["ADD_KEY", "COLLECTIONS", "apply_changes", "check_changes", "merge_changes"]

#: The reserved top-level key of a change table that adds entries to named collections.
ADD_KEY = "add"
#: Named collections of a scenario (tables of entries keyed by name), with what an entry is.
COLLECTIONS: dict[str, str] = {
    "segments": "segment",
    "business_types": "business type",
    "counters": "counter group",
    "stages": "stage",
    "routes": "route",
    "touchpoints": "touchpoint",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return copy.copy(value)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


# --------------------------------------------------------------------------- merging checked
def _merge_model(
    target: dict[str, Any],
    changes: Mapping[str, Any],
    model: type[BaseModel],
    path: str,
    errors: list[str],
) -> None:
    """Merge ``changes`` into ``target`` (the dump of a ``model``), checking every key."""
    fields = model.model_fields
    for key, value in changes.items():
        where = _join(path, key)
        if key not in fields:
            errors.append(
                f"{where}: unknown field {key!r}{did_you_mean(key, fields)} "
                f"(fields here: {', '.join(fields)})"
            )
            continue
        kind, info = node_of(model, key)
        current = target.get(key)
        if not isinstance(value, Mapping):
            target[key] = _plain(value)
        elif kind == "model" and isinstance(current, dict):
            _merge_model(current, value, info, where, errors)
        elif kind == "collection" and isinstance(current, dict):
            what = COLLECTIONS.get(where, "entry")
            for name, entry in value.items():
                if name not in current:
                    names = ", ".join(map(repr, current)) or "none"
                    errors.append(
                        f"{_join(where, name)}: no {what} {name!r} in the scenario"
                        f"{did_you_mean(name, current)} ({where}: {names}); to add one, "
                        f"put it under {ADD_KEY}.{_join(where, name)}"
                    )
                elif isinstance(entry, Mapping) and isinstance(current[name], dict):
                    _merge_model(current[name], entry, info, _join(where, name), errors)
                else:
                    current[name] = _plain(entry)
        elif kind == "distribution":
            if "kind" in value or not isinstance(current, dict):
                if "kind" not in value:
                    errors.append(
                        f"{where}: there is no distribution here to change (it is "
                        f"{current!r}); give a whole one with its kind, one of "
                        f"{', '.join(info)}"
                    )
                    continue
                target[key] = _plain(value)  # a table with a kind replaces the distribution
            else:
                cls = info.get(current.get("kind"))
                if cls is None:  # pragma: no cover - a dumped scenario always has a kind
                    target[key] = _plain(value)
                else:
                    _merge_model(current, value, cls, where, errors)
        elif kind == "map" and isinstance(current, dict):
            for k, v in value.items():
                current[k] = _plain(v)
        else:
            target[key] = _plain(value)


def _add_entries(data: dict[str, Any], add: Any, errors: list[str]) -> None:
    """Add the new entries of an ``add`` table to the scenario dump ``data``."""
    if not isinstance(add, Mapping):
        errors.append(
            f"{ADD_KEY}: must be a table of new entries by collection "
            f"({', '.join(COLLECTIONS)}), got {type(add).__name__}"
        )
        return
    for coll, entries in add.items():
        where = _join(ADD_KEY, coll)
        if coll not in COLLECTIONS:
            errors.append(
                f"{where}: entries can only be added to {', '.join(COLLECTIONS)}"
                f"{did_you_mean(coll, COLLECTIONS)}"
            )
            continue
        if not isinstance(entries, Mapping):
            errors.append(f"{where}: must be a table of new {COLLECTIONS[coll]}s by name")
            continue
        for name, entry in entries.items():
            if name in data[coll]:
                errors.append(
                    f"{_join(where, name)}: {COLLECTIONS[coll]} {name!r} already exists; "
                    f"change it under {_join(coll, name)} instead"
                )
            elif not isinstance(entry, Mapping):
                errors.append(
                    f"{_join(where, name)}: a new {COLLECTIONS[coll]} must be a table of its "
                    f"fields, got {type(entry).__name__}"
                )
            else:
                data[coll][name] = _plain(entry)


def check_changes(
    scenario: Scenario, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Merge ``changes`` into the dump of ``scenario``; return it and the path errors.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (not modified).
    changes : mapping
        A nested partial scenario, optionally with an ``add`` table.

    Returns
    -------
    data : dict
        The merged scenario as plain data (not yet validated).
    errors : list of str
        One ``"path: reason"`` line per unknown field or entry; empty if all are known.
    """
    data = scenario.model_dump()
    errors: list[str] = []
    if not isinstance(changes, Mapping):
        return data, [f"(changes): must be a table, got {type(changes).__name__}"]
    if ADD_KEY in changes:
        _add_entries(data, changes[ADD_KEY], errors)
    rest = {k: v for k, v in changes.items() if k != ADD_KEY}
    _merge_model(data, rest, type(scenario), "", errors)
    return data, errors


def apply_changes(
    scenario: Scenario,
    changes: Mapping[str, Any],
    *,
    strict: bool = True,
    source: str = "changes",
) -> Scenario:
    """Return ``scenario`` changed by the nested partial table ``changes``, validated.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (not modified).
    changes : mapping
        A nested partial scenario, e.g. ``{"counters": {"general": {"tellers": 5}}}``.
        Only existing fields and entries may be named; new segments, business types
        and counter groups go under ``add`` (``{"add": {"counters": {"gold": {...}}}}``).
        A table naming a ``kind`` replaces a distribution (``service``, ``renege``).
    strict : bool, default True
        Validate without type coercion: a string is not a number, a number not a
        boolean (an integer is still accepted for a float).
    source : str
        Label for error messages (a policy name, a file).

    Returns
    -------
    Scenario
        A new, validated scenario.

    Raises
    ------
    ConfigError
        Naming each unknown path (with the valid names and a "did you mean") or each
        field the validation refused, at most 20 of them and a count of the rest.

    Examples
    --------
    >>> import peakend as pe
    >>> from peakend.config import apply_changes
    >>> s = pe.load_scenario("default_branch")
    >>> apply_changes(s, {"counters": {"general": {"tellers": 5}}}).counters["general"].tellers
    5
    >>> gold = {"tellers": 1, "segments": ["gold"], "discipline": "dedicated"}
    >>> sorted(apply_changes(s, {"add": {"counters": {"gold": gold}}}).counters)
    ['general', 'gold', 'vip']
    """
    data, errors = check_changes(scenario, changes)
    if errors:
        raise ConfigError(source, errors)
    cls = type(scenario)
    try:
        return cls.model_validate(data, strict=strict)
    except ValidationError as exc:
        lines, total = error_lines(exc, cls)
        raise ConfigError(
            source, [f"{'.'.join(p) or '(scenario)'}: {m}" for p, m, _ in lines], total
        ) from exc


# --------------------------------------------------------------------------- composing
def _compose_model(
    out: dict[str, Any], changes: Mapping[str, Any], model: type[BaseModel] | None
) -> None:
    for key, value in changes.items():
        current = out.get(key)
        if not isinstance(value, Mapping) or not isinstance(current, dict):
            out[key] = _plain(value)
            continue
        if model is None or key not in model.model_fields:
            _compose_model(current, value, None)
            continue
        kind, info = node_of(model, key)
        if kind == "distribution" and "kind" in value:
            out[key] = _plain(value)
        elif kind == "distribution":
            _compose_model(current, value, info.get(current.get("kind")))
        elif kind == "collection":
            for name, entry in value.items():
                if isinstance(entry, Mapping) and isinstance(current.get(name), dict):
                    _compose_model(current[name], entry, info)
                else:
                    current[name] = _plain(entry)
        else:
            _compose_model(current, value, info if kind == "model" else None)


def merge_changes(first: Mapping[str, Any], then: Mapping[str, Any]) -> dict[str, Any]:
    """Combine two change tables: ``then`` applied after ``first``.

    Like :func:`peakend.config.deep_merge`, except that a distribution table naming a
    ``kind`` in ``then`` replaces the one in ``first`` (as it would replace it in a
    scenario), also for entries added under ``add``.

    Parameters
    ----------
    first, then : mapping
        Change tables (see :func:`apply_changes`).

    Returns
    -------
    dict
        A new change table; neither argument is modified.

    Examples
    --------
    >>> a = {"business_types": {"cash": {"service": {"mean": 4.0}}}}
    >>> b = {"business_types": {"cash": {"service": {"kind": "deterministic", "value": 3}}}}
    >>> merge_changes(a, b)["business_types"]["cash"]["service"]
    {'kind': 'deterministic', 'value': 3}
    """
    out = _plain(first)
    rest = {k: v for k, v in then.items() if k != ADD_KEY}
    _compose_model(out, rest, Scenario)
    if ADD_KEY in then:
        add = then[ADD_KEY]
        if isinstance(add, Mapping) and isinstance(out.get(ADD_KEY), dict):
            _compose_model(out[ADD_KEY], add, _AddTable)
        else:
            out[ADD_KEY] = _plain(add)
    return out


class _AddTable(BaseModel):
    """The shape of an ``add`` table, for composing (never validated)."""

    segments: dict[str, Segment]
    business_types: dict[str, BusinessType]
    counters: dict[str, CounterGroup]
