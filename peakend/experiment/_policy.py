"""Policies: named, validated, composable changes to a scenario."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peakend.config.changes import apply_changes, merge_changes
from peakend.config.errors import ConfigError, PolicyError, error_lines
from peakend.config.io import (
    MAX_FILE_BYTES,
    POLICY_KEYS,
    builtin_dir,
    deep_merge,
    policy_tables,
    read_toml,
)

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
POLICY_FILE_KEYS = POLICY_KEYS


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
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return _check_plain(value.item(), where)  # a numpy scalar: its Python value
    raise PolicyError(
        f"{where}: values must be tables, lists, numbers, strings or booleans, "
        f"got {type(value).__name__}"
    )


def validation_messages(exc: Exception) -> list[str]:
    """One ``"field.path: reason"`` line per error of a pydantic ValidationError.

    A model validator's message that already starts with a field name
    (``"tellers: must be ..."``) is joined to the location, so every line
    names the full dotted path of the field at fault; at most 20 lines are
    given, then a count of the rest.

    Parameters
    ----------
    exc : Exception
        A ``pydantic.ValidationError`` (or any exception: its text is returned).

    Returns
    -------
    list of str
        The messages, in pydantic's order.
    """
    from pydantic import ValidationError

    from peakend.config import Scenario

    if isinstance(exc, ConfigError):  # a ScenarioValidationError included: already clear
        more = exc.n_problems - len(exc.problems)
        return list(exc.problems) + ([f"... and {more:,} more errors not shown"] if more else [])
    if not isinstance(exc, ValidationError):
        return [str(exc)]
    lines, total = error_lines(exc, Scenario)
    out = [f"{'.'.join(p) or '(scenario)'}: {m}" for p, m, _ in lines]
    if total > len(out):
        out.append(f"... and {total - len(out):,} more errors not shown")
    return out


@dataclass(frozen=True, eq=True)
class Policy:
    """A named change to a scenario: a nested partial dict merged into it.

    Applying a policy merges :attr:`changes` into the scenario and validates
    the result strictly (see :func:`peakend.config.apply_changes`), so a policy
    can change any field of a scenario (staffing, windows, demand shaping,
    experience design) and an invalid change is reported with the policy's name
    and the field at fault. A policy may only name fields and entries that
    exist: a misspelt counter group, segment or business type is an error with a
    "did you mean", and new entries go under the reserved key ``add``
    (``{"add": {"counters": {"gold": {...}}}}``). A table that names a ``kind``
    replaces a distribution (``service``, ``renege``) instead of merging into it.

    Parameters
    ----------
    name : str
        Non-empty name, used as the label in results (e.g. ``"lunch_teller"``).
    changes : Mapping, optional
        Nested partial scenario, e.g. ``{"counters": {"general": {"tellers": 4}}}``,
        optionally with an ``add`` table of new entries; empty for the baseline.
        Only tables, lists, numbers, strings and booleans are allowed (so that
        results can store it as JSON); numpy scalars become Python numbers.
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
            If a change names an unknown field or entry (with the valid names and
            a "did you mean"), or the changed scenario is invalid; the message
            names the policy and each field at fault with the validator's reason
            (at most 20, then a count of the rest).
        """
        if not self.changes:
            return scenario
        try:
            return apply_changes(scenario, self.changes, source=f"policy {self.name!r}")
        except ConfigError as exc:
            shown = "; ".join(exc.problems)
            more = exc.n_problems - len(exc.problems)
            if more > 0:
                shown += f"; ... and {more:,} more not shown"
            raise PolicyError(
                f"policy {self.name!r} gives an invalid scenario: {shown}",
                exc.problems,
                exc.n_problems,
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
            A policy whose changes are all changes merged in order (see
            :func:`peakend.config.merge_changes`: a distribution table naming a
            ``kind`` replaces the earlier one).

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
            changes = merge_changes(changes, p.changes)
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


def _policies_dir() -> Path:
    return builtin_dir() / "policies"


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
    same file, merged before ``changes``). Other keys are refused. An empty
    table (``[baseline]``) is the scenario as given.

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
    return [Policy(name, changes, description) for name, description, changes in
            policy_tables(data, source)]


def load_policies(
    source: str | os.PathLike[str],
    scenario: Scenario | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> list[Policy]:
    """Load a policy set from a TOML file or a built-in set name.

    The file is read safely (size cap, UTF-8, valid TOML, bounded nesting; see
    :func:`peakend.config.read_toml`).

    Parameters
    ----------
    source : str or path-like
        A path to a ``.toml`` policy file, or the name of a built-in set
        (see :func:`builtin_policy_sets`).
    scenario : Scenario, optional
        If given, every policy is applied to it, so that an invalid policy is
        reported now rather than at run time.
    max_bytes : int, default 2,000,000
        Largest file accepted, bytes.

    Returns
    -------
    list of Policy
        In file order.

    Raises
    ------
    PolicyError
        If the file is missing, cannot be read, is not valid TOML, or a policy is
        invalid (the message names the file).
    """
    path = Path(source)
    if path.suffix == ".toml" or path.exists():
        label = str(path)
    else:
        name = str(source)
        if name not in builtin_policy_sets():
            from peakend.config.errors import did_you_mean

            raise PolicyError(
                f"policies {name!r} is neither a .toml file nor a built-in policy set "
                f"(built-in: {', '.join(builtin_policy_sets()) or 'none'})"
                + did_you_mean(name, builtin_policy_sets())
            )
        path = _policies_dir() / f"{name}.toml"
        label = f"built-in policy set {name!r}"
    if not path.is_file():
        raise PolicyError(
            f"policy file {str(path)!r} "
            + ("is not a file" if path.exists() else "does not exist")
        )
    try:
        data = read_toml(path, max_bytes=max_bytes, what="policy file")
    except PolicyError:
        raise
    except ConfigError as exc:
        raise PolicyError(str(exc), exc.problems, exc.n_problems) from None
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
