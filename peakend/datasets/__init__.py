"""Real data shipped with peakend, with loaders that return visit logs.

A visit log is a :class:`pandas.DataFrame`, one row a visit, in the format that
:func:`peakend.calibrate.read_log` checks and :func:`peakend.calibrate.from_log`
calibrates a scenario from (see ``docs/how-to/calibrate.md``).

Data
----
``anonymous_bank``
    Every call to the call centre of an Israeli bank, 1-14 February 1999
    (Technion Service Enterprise Engineering Laboratory, SEELab, Mandelbaum et
    al.; analysed in Brown et al. 2005, JASA 100:36-50).
"""

from peakend.datasets._anonymous_bank import ATTRIBUTION, anonymous_bank, read_anonymous_bank

__all__ = ["ATTRIBUTION", "anonymous_bank", "read_anonymous_bank"]
