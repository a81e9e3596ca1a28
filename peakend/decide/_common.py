"""Helpers shared by the decision tools (public API of peakend only)."""

from __future__ import annotations

from typing import Any

__all__ = ["policy_list"]


def policy_list(policies: Any) -> list[Any]:
    """Normalise a ``policies`` argument (as :func:`peakend.run` takes it) to Policy objects.

    The same rules as :func:`peakend.run` (it is :func:`peakend.experiment.policies_from`).

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
        (:class:`peakend.experiment.PolicyError`) if an item is not a policy or two
        share a name.
    """
    from peakend.experiment import policies_from

    return policies_from(policies)
