"""Loading, merging and describing scenarios; reading scenario and policy files safely.

Every file is read the same way (:func:`read_toml`): its size is checked against
:data:`MAX_FILE_BYTES` before parsing, it must be UTF-8 (a UTF-8 byte-order mark is
allowed) and valid TOML nested at most :data:`MAX_DEPTH` levels deep; any problem is
one :class:`~peakend.config.errors.ConfigError` naming the file. Values are then
validated strictly: ``rate = "30"``, ``share = true`` or ``lounge = "yes"`` are errors.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from peakend.config.changes import apply_changes, merge_changes
from peakend.config.errors import (
    MAX_ERRORS_SHOWN,
    ConfigError,
    PolicyError,
    did_you_mean,
    error_from_lines,
    scenario_validation_error,
    unknown_fields,
)
from peakend.config.models import Scenario

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_POLICIES",
    "POLICY_KEYS",
    "builtin_dir",
    "check_file",
    "deep_merge",
    "file_kind",
    "load_scenario",
    "policy_tables",
    "read_toml",
    "scenario_from_data",
    "scenario_schema",
]

#: Largest scenario or policy file read, bytes (1 MB; the built-in files are about 5 kB).
#: Pass ``max_bytes=`` to :func:`load_scenario`, :func:`check_file` or
#: :func:`peakend.experiment.load_policies` to read a larger one.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of tables and lists in a file (a scenario needs about 6 levels).
MAX_DEPTH = 32
#: Most policies one policy file may define.
MAX_POLICIES = 1000
#: Keys allowed in one policy table of a policy file.
POLICY_KEYS = frozenset({"description", "changes", "compose"})

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


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether nested tables and lists in ``data`` go deeper than ``limit`` (no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def read_toml(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES, what: str = "file"
) -> dict[str, Any]:
    """Read a TOML file safely: size cap, UTF-8, valid TOML, bounded nesting.

    Parameters
    ----------
    path : str or path-like
        The file.
    max_bytes : int, default :data:`MAX_FILE_BYTES`
        Largest file size accepted, bytes; checked before the file is read.
    what : str
        What the file should be (``"scenario file"``), for messages.

    Returns
    -------
    dict
        The parsed TOML.

    Raises
    ------
    ConfigError
        One error naming the file: missing, a directory, too large, not UTF-8
        (UTF-16 is named as such), invalid TOML (with line and column) or nested
        deeper than :data:`MAX_DEPTH` levels.
    """
    p = Path(path)
    label = str(p)
    if not p.exists():
        raise ConfigError(label, [f"{what} does not exist"])
    if not p.is_file():
        raise ConfigError(label, [f"is not a file (expected a {what} in TOML)"])
    size = p.stat().st_size
    if size > max_bytes:
        raise ConfigError(
            label,
            [
                f"{what} is {size:,} bytes, more than the limit of {max_bytes:,} bytes; "
                "pass max_bytes= to read a larger file"
            ],
        )
    with p.open("rb") as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:  # grew since it was measured
        raise ConfigError(label, [f"{what} is more than the limit of {max_bytes:,} bytes"])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(label, [f"{what} is UTF-16 encoded; save it as UTF-8"])
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            label,
            [
                f"{what} is not UTF-8 text: undecodable byte 0x{raw[exc.start]:02x} at line "
                f"{line} (byte {exc.start}); save it as UTF-8"
            ],
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(label, [f"invalid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError(
            label, [f"invalid {what}: tables or lists nested more than {MAX_DEPTH} levels deep"]
        ) from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise ConfigError(
            label, [f"invalid {what}: tables or lists nested more than {MAX_DEPTH} levels deep"]
        )
    return data


def scenario_from_data(data: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Validate parsed file data as a scenario, strictly, with clear errors.

    Parameters
    ----------
    data : mapping
        A parsed scenario file.
    source : str
        The file, for messages.

    Returns
    -------
    Scenario
        The validated, frozen scenario.

    Raises
    ------
    ScenarioValidationError
        A :class:`pydantic.ValidationError` and a :class:`ConfigError` titled by
        ``source``: at most 20 errors, each naming the field path and the allowed
        values, and a count of the rest.
    """
    lines, n_unknown = unknown_fields(data, Scenario)
    if n_unknown > MAX_ERRORS_SHOWN:  # a file of junk keys: answer at once, without pydantic
        raise error_from_lines(lines, n_unknown, source)
    try:
        return Scenario.model_validate(data, strict=True)
    except ValidationError as exc:
        raise scenario_validation_error(exc, Scenario, source) from None


def load_scenario(
    name_or_path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES
) -> Scenario:
    """Load and validate a scenario: a built-in name or a TOML file.

    The file is read safely (see :func:`read_toml`) and validated strictly: a string
    is not a number (``rate = "30"``), a number is not a boolean (``lounge = 1``).

    Parameters
    ----------
    name_or_path : str or path-like
        A built-in scenario name (see :func:`peakend.scenarios.builtin_names`,
        e.g. ``"default_branch"``) or the path of a ``.toml`` scenario file.
    max_bytes : int, default :data:`MAX_FILE_BYTES`
        Largest file accepted, bytes (1 MB by default).

    Returns
    -------
    Scenario
        The validated, frozen scenario.

    Raises
    ------
    FileNotFoundError
        If the name is not built in and no such file exists.
    ConfigError
        If the file is too large, not UTF-8, not valid TOML or nested too deeply
        (the message names the file).
    ScenarioValidationError
        If the file does not describe a valid scenario: a ``pydantic.ValidationError``
        (and a ``ConfigError``) titled by the file, naming each field at fault.

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
        if path.is_dir():
            raise ConfigError(text, ["is a directory, not a scenario file"])
        raise FileNotFoundError(
            f"name_or_path: {text!r} is neither a built-in scenario ({', '.join(names)}) "
            "nor an existing .toml file"
        )
    data = read_toml(path, max_bytes=max_bytes, what="scenario file")
    if "name" not in data:
        data["name"] = path.stem
    return scenario_from_data(data, str(path))


# --------------------------------------------------------------------------- policy files
def _is_policy_table(value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= POLICY_KEYS


def file_kind(data: Mapping[str, Any]) -> Literal["scenario", "policies"]:
    """Tell a parsed policy file from a scenario file.

    A policy file is a non-empty set of tables whose keys are only ``description``,
    ``changes`` and ``compose`` (an empty table ``[baseline]`` included); anything
    else is read as a scenario.
    """
    if data and all(_is_policy_table(v) for v in data.values()):
        return "policies"
    return "scenario"


def policy_tables(
    data: Mapping[str, Any], source: str = "policy file"
) -> list[tuple[str, str, dict[str, Any]]]:
    """Check a parsed policy file and resolve ``compose``.

    Each top-level table is a policy: ``description`` (str), ``changes`` (table)
    and ``compose`` (list of names of policies defined earlier in the same file,
    merged before ``changes``). Other keys are refused.

    Parameters
    ----------
    data : mapping
        Parsed TOML.
    source : str
        Name of the file, for error messages.

    Returns
    -------
    list of (name, description, changes)
        In file order; ``changes`` already include the composed policies.

    Raises
    ------
    PolicyError
        Naming the file, the policy and the key at fault.
    """
    if not data:
        raise PolicyError(f"{source}: defines no policy (expected one table per policy)")
    if len(data) > MAX_POLICIES:
        raise PolicyError(
            f"{source}: defines {len(data):,} policies; at most {MAX_POLICIES:,} per file"
        )
    out: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise PolicyError(
                f"{source}: top-level key {name!r} must be a table [{name}] with "
                f"description/changes/compose, got {type(table).__name__}"
            )
        unknown = set(table) - POLICY_KEYS
        if unknown:
            hint = did_you_mean(sorted(unknown)[0], POLICY_KEYS)
            raise PolicyError(
                f"{source}: policy {name!r} has unknown key(s) {sorted(unknown)}{hint}; "
                f"allowed: {sorted(POLICY_KEYS)}"
            )
        description = table.get("description", "")
        if not isinstance(description, str):
            raise PolicyError(
                f"{source}: policy {name!r}: description must be a string, "
                f"got {type(description).__name__}"
            )
        compose = table.get("compose", [])
        if isinstance(compose, str) or not isinstance(compose, Sequence):
            raise PolicyError(f"{source}: policy {name!r}: compose must be a list of names")
        changes: dict[str, Any] = {}
        for ref in compose:
            if ref not in out:
                raise PolicyError(
                    f"{source}: policy {name!r}: compose refers to {ref!r}, "
                    f"which is not defined above it"
                    + did_you_mean(str(ref), out)
                )
            changes = merge_changes(changes, out[ref][2])
        own = table.get("changes", {})
        if not isinstance(own, Mapping):
            raise PolicyError(f"{source}: policy {name!r}: changes must be a table")
        out[name] = (name, description, merge_changes(changes, own))
    return list(out.values())


def check_file(
    path: str | os.PathLike[str],
    scenario: Scenario | str | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> Literal["scenario", "policies"]:
    """Validate a file that may be a scenario or a policy set; say which it is.

    Parameters
    ----------
    path : str or path-like
        A ``.toml`` scenario file or policy file.
    scenario : Scenario or str, optional
        For a policy file: the scenario (or built-in name or file) every policy is
        applied to and checked against; default ``"default_branch"``.
    max_bytes : int, default :data:`MAX_FILE_BYTES`
        Largest file accepted, bytes.

    Returns
    -------
    {"scenario", "policies"}
        What the file is (see :func:`file_kind`); it is valid.

    Raises
    ------
    ConfigError
        For a file that cannot be read (size, encoding, TOML, nesting); for a
        policy file, a :class:`PolicyError` listing every invalid policy
        (``.problems``, at most 20 lines, and ``.n_problems``); for a scenario file a
        :class:`ScenarioValidationError` naming each field.

    Examples
    --------
    >>> from peakend.config import builtin_dir, check_file
    >>> check_file(builtin_dir() / "default_branch.toml")
    'scenario'
    >>> check_file(builtin_dir() / "policies" / "default_branch.toml")
    'policies'
    """
    p = Path(path)
    data = read_toml(p, max_bytes=max_bytes, what="file")
    if file_kind(data) == "scenario":
        if "name" not in data:
            data["name"] = p.stem
        scenario_from_data(data, str(p))
        return "scenario"
    tables = policy_tables(data, str(p))
    if isinstance(scenario, Scenario):
        base = scenario
    else:
        base = load_scenario("default_branch" if scenario is None else scenario)
    problems = []
    for name, _, changes in tables:
        try:
            apply_changes(base, changes, source=f"policy {name!r}")
        except ConfigError as exc:
            problems += [f"policy {name!r}: {line}" for line in exc.problems]
    if problems:
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        raise PolicyError(
            f"{p}: {len(problems)} problem(s) in policies checked against scenario "
            f"{base.name!r}:\n"
            + "\n".join(f"  {line}" for line in shown)
            + (f"\n  ... and {more:,} more not shown" if more else ""),
            problems,
            len(problems),
        )
    return "policies"


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
