"""Policies: named, validated, composable changes to a scenario."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peakend.config.io import deep_merge

if TYPE_CHECKING:  # pragma: no cover
    from peakend.config import Scenario

__all__ = [
    "Policy",
    "PolicyError",
    "builtin_policy_sets",
    "deep_merge",
    "load_policies",
    "policies_from",
]

#: Keys allowed in one policy table of a policy file.
POLICY_FILE_KEYS = frozenset({"description", "changes", "compose"})


class PolicyError(ValueError):
    """A policy is malformed or does not give a valid scenario; the message names the field."""


def _check_plain(value: Any, where: str) -> Any:
    """Return a JSON-able deep copy of ``value`` (tables keyed by str), or raise PolicyError."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise PolicyError(f"{where}: keys must be strings, got {k!r}")
            out[k] = _check_plain(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_check_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise PolicyError(
        f"{where}: values must be tables, lists, numbers, strings or booleans, "
        f"got {type(value).__name__}"
    )


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.*\[\]]*): (.*)$", re.S)


def validation_messages(exc: Exception) -> list[str]:
    """One ``"field.path: reason"`` line per error of a pydantic ValidationError.

    A model validator's message that already starts with a field name
    (``"tellers: must be ..."``) is joined to the location, so every line
    names the full dotted path of the field at fault.

    Parameters
    ----------
    exc : Exception
        A ``pydantic.ValidationError`` (or any exception: its text is returned).

    Returns
    -------
    list of str
        The messages, in pydantic's order.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [str(exc)]
    lines = []
    for err in errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        m = _FIELD_PREFIX.match(msg)
        if m:
            loc = f"{loc}.{m.group(1)}" if loc else m.group(1)
            msg = m.group(2)
        elif "input" in err and err.get("type") != "missing" and not isinstance(
            err["input"], (dict, list)
        ):
            msg = f"{msg} (got {err['input']!r})"
        lines.append(f"{loc or '(scenario)'}: {msg}")
    return lines


def _format_validation_error(exc: Exception) -> str:
    return "; ".join(validation_messages(exc))


@dataclass(frozen=True, eq=True)
class Policy:
    """A named change to a scenario: a nested partial dict merged into it.

    Applying a policy deep-merges :attr:`changes` into
    ``scenario.model_dump()`` and validates the result with
    ``Scenario.model_validate``, so a policy can change any field of a
    scenario (staffing, windows, demand shaping, experience design) and an
    invalid change is reported with the policy's name and the field at fault.

    Parameters
    ----------
    name : str
        Non-empty name, used as the label in results (e.g. ``"lunch_teller"``).
    changes : Mapping, optional
        Nested partial scenario, e.g. ``{"counters": {"general": {"n": 4}}}``;
        empty for the baseline. Only tables, lists, numbers, strings and
        booleans are allowed (so that results can store it as JSON).
    description : str, optional
        One line for tables and reports.

    Examples
    --------
    >>> a = Policy("a", {"x": {"y": 1}})
    >>> b = Policy("b", {"x": {"z": 2}})
    >>> (a + b).name, (a + b).changes
    ('a+b', {'x': {'y': 1, 'z': 2}})
    """

    name: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PolicyError(f"policy name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.changes, Mapping):
            raise PolicyError(
                f"policy {self.name!r}: changes must be a table (mapping), "
                f"got {type(self.changes).__name__}"
            )
        object.__setattr__(self, "changes", _check_plain(self.changes, f"policy {self.name!r}"))
        object.__setattr__(self, "description", str(self.description))

    def __hash__(self) -> int:
        return hash((self.name, json.dumps(self.changes, sort_keys=True)))

    def apply(self, scenario: Scenario) -> Scenario:
        """Return the scenario with this policy's changes, validated.

        Parameters
        ----------
        scenario : Scenario
            The scenario to change (not modified).

        Returns
        -------
        Scenario
            A new, validated scenario.

        Raises
        ------
        PolicyError
            If the merged scenario is invalid; the message names the policy
            and each field at fault with the validator's reason.
        """
        if not self.changes:
            return scenario
        merged = deep_merge(scenario.model_dump(), self.changes)
        try:
            return type(scenario).model_validate(merged)
        except Exception as exc:  # pydantic.ValidationError, or a model's ValueError
            raise PolicyError(
                f"policy {self.name!r} gives an invalid scenario: {_format_validation_error(exc)}"
            ) from exc

    def __add__(self, other: Policy) -> Policy:
        if not isinstance(other, Policy):
            return NotImplemented
        return Policy.compose(self, other)

    @classmethod
    def compose(
        cls, *policies: Policy, name: str | None = None, description: str | None = None
    ) -> Policy:
        """Combine policies into one; later policies win where they change the same field.

        Parameters
        ----------
        *policies : Policy
            At least one policy.
        name : str, optional
            Name of the result; default the names joined by ``"+"``.
        description : str, optional
            Default: the descriptions joined by ``"; "``.

        Returns
        -------
        Policy
            A policy whose changes are the deep merge of all changes in order.

        Raises
        ------
        PolicyError
            If no policy is given.
        """
        if not policies:
            raise PolicyError("compose needs at least one policy")
        changes: dict[str, Any] = {}
        for p in policies:
            if not isinstance(p, Policy):
                raise PolicyError(f"compose takes Policy objects, got {type(p).__name__}")
            changes = deep_merge(changes, p.changes)
        if name is None:
            name = "+".join(p.name for p in policies)
        if description is None:
            description = "; ".join(p.description for p in policies if p.description)
        return cls(name, changes, description)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"name", "description", "changes"}`` as plain JSON-able data."""
        return {"name": self.name, "description": self.description, "changes": self.changes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Inverse of :meth:`to_dict`."""
        return cls(data["name"], data.get("changes", {}), data.get("description", ""))


def _policies_dir() -> Any:
    return resources.files("peakend").joinpath("scenarios", "policies")


def builtin_policy_sets() -> list[str]:
    """Names of the built-in policy sets (one TOML file each, named after its scenario).

    Returns
    -------
    list of str
        Sorted names, e.g. ``["default_branch"]``.
    """
    folder = _policies_dir()
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(e.name[: -len(".toml")] for e in entries if e.name.endswith(".toml"))


def parse_policy_table(data: Mapping[str, Any], source: str = "policy file") -> list[Policy]:
    """Build policies from a parsed policy file (one table per policy).

    Each top-level table is a policy: ``description`` (str), ``changes``
    (table) and ``compose`` (list of names of policies defined earlier in the
    same file, merged before ``changes``). Other keys are refused.

    Parameters
    ----------
    data : Mapping
        Parsed TOML.
    source : str
        Name of the file, for error messages.

    Returns
    -------
    list of Policy
        In file order.

    Raises
    ------
    PolicyError
        Naming the file, the policy and the key at fault.
    """
    out: dict[str, Policy] = {}
    if not data:
        raise PolicyError(f"{source}: defines no policy (expected one table per policy)")
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise PolicyError(
                f"{source}: top-level key {name!r} must be a table [{name}] with "
                f"description/changes/compose, got {type(table).__name__}"
            )
        unknown = set(table) - POLICY_FILE_KEYS
        if unknown:
            raise PolicyError(
                f"{source}: policy {name!r} has unknown key(s) {sorted(unknown)}; "
                f"allowed: {sorted(POLICY_FILE_KEYS)}"
            )
        parts: list[Policy] = []
        compose = table.get("compose", [])
        if isinstance(compose, str) or not isinstance(compose, Sequence):
            raise PolicyError(f"{source}: policy {name!r}: compose must be a list of names")
        for ref in compose:
            if ref not in out:
                raise PolicyError(
                    f"{source}: policy {name!r}: compose refers to {ref!r}, "
                    f"which is not defined above it"
                )
            parts.append(out[ref])
        changes = table.get("changes", {})
        if not isinstance(changes, Mapping):
            raise PolicyError(f"{source}: policy {name!r}: changes must be a table")
        own = Policy(name, changes, table.get("description", ""))
        policy = Policy.compose(*parts, own, name=name, description=own.description)
        out[name] = policy
    return list(out.values())


def load_policies(
    source: str | os.PathLike[str], scenario: Scenario | None = None
) -> list[Policy]:
    """Load a policy set from a TOML file or a built-in set name.

    Parameters
    ----------
    source : str or path-like
        A path to a ``.toml`` policy file, or the name of a built-in set
        (see :func:`builtin_policy_sets`).
    scenario : Scenario, optional
        If given, every policy is applied to it, so that an invalid policy is
        reported now rather than at run time.

    Returns
    -------
    list of Policy
        In file order.

    Raises
    ------
    PolicyError
        If the file is missing, is not valid TOML, or a policy is invalid.
    """
    path = Path(source)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise PolicyError(f"policy file {str(path)!r} does not exist")
        text = path.read_text(encoding="utf-8")
        label = str(path)
    else:
        name = str(source)
        if name not in builtin_policy_sets():
            raise PolicyError(
                f"policies {name!r} is neither a .toml file nor a built-in policy set "
                f"(built-in: {', '.join(builtin_policy_sets()) or 'none'})"
            )
        text = _policies_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8")
        label = f"built-in policy set {name!r}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{label}: invalid TOML: {exc}") from exc
    policies = parse_policy_table(data, label)
    if scenario is not None:
        for p in policies:
            p.apply(scenario)
    return policies


def policies_from(
    policies: str | os.PathLike[str] | Policy | Iterable[Any] | Mapping[str, Any] | None,
) -> list[Policy]:
    """Normalise the ``policies`` argument of :func:`peakend.run` to a list of policies.

    Parameters
    ----------
    policies : None, Policy, sequence of Policy, mapping, str or path
        ``None`` gives the baseline only; a mapping maps names to a
        :class:`Policy` or to a changes dict; a str or path names a policy
        file or built-in set.

    Returns
    -------
    list of Policy
        With unique names.

    Raises
    ------
    PolicyError
        If an item is not a policy or two policies share a name.
    """
    out: list[Policy]
    if policies is None:
        out = [Policy("baseline", {}, "the scenario as given")]
    elif isinstance(policies, Policy):
        out = [policies]
    elif isinstance(policies, (str, os.PathLike)):
        out = load_policies(policies)
    elif isinstance(policies, Mapping):
        out = []
        for name, value in policies.items():
            if isinstance(value, Policy):
                out.append(value if value.name == name else Policy(name, value.changes,
                                                                   value.description))
            elif isinstance(value, Mapping) or value is None:
                out.append(Policy(name, value or {}))
            else:
                raise PolicyError(
                    f"policies[{name!r}] must be a Policy or a changes table, "
                    f"got {type(value).__name__}"
                )
    else:
        out = []
        for i, value in enumerate(policies):
            if not isinstance(value, Policy):
                raise PolicyError(f"policies[{i}] must be a Policy, got {type(value).__name__}")
            out.append(value)
    if not out:
        raise PolicyError("policies must contain at least one policy")
    seen: set[str] = set()
    for p in out:
        if p.name in seen:
            raise PolicyError(f"policy name {p.name!r} is used twice; names must be unique")
        seen.add(p.name)
    return out
