"""Helpers shared by the decision tools (public API of peakend only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["policy_list"]


def policy_list(policies: Any) -> list[Any]:
    """Normalise a ``policies`` argument (as :func:`peakend.run` takes it) to Policy objects.

    Parameters
    ----------
    policies : None, Policy, sequence of Policy, mapping, str or path
        ``None``: the baseline; a mapping maps names to a Policy or a changes
        table; a str or path names a policy file or built-in policy set.

    Returns
    -------
    list of Policy
        With unique names.

    Raises
    ------
    ValueError
        If an item is not a policy or two share a name.
    """
    from peakend.experiment import Policy, load_policies

    if policies is None:
        out = [Policy("baseline")]
    elif isinstance(policies, Policy):
        out = [policies]
    elif isinstance(policies, (str, os.PathLike)):
        out = load_policies(policies)
    elif isinstance(policies, Mapping):
        out = []
        for name, value in policies.items():
            if isinstance(value, Policy):
                out.append(Policy(str(name), value.changes, value.description))
            elif isinstance(value, Mapping) or value is None:
                out.append(Policy(str(name), value or {}))
            else:
                raise ValueError(f"policies[{name!r}] must be a Policy or a changes table, "
                                 f"got {type(value).__name__}")
    else:
        out = []
        for i, value in enumerate(policies):
            if not isinstance(value, Policy):
                raise ValueError(f"policies[{i}] must be a Policy, got {type(value).__name__}")
            out.append(value)
    names = [p.name for p in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"policies: names must be unique, {dupes} used twice")
    if not out:
        raise ValueError("policies: give at least one policy")
    return out
