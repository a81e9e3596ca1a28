"""Survey metrics, the complaint iceberg and churn risk from remembered experience.

Banks read their customers through surveys: CSAT (satisfaction 1-5, overall and per
touchpoint), NPS (likelihood to recommend 0-10: % promoters 9-10 minus % detractors
0-6) and CES (customer effort). This module turns the *remembered* value of simulated
journeys (affect scale -10..10) into those answers through a documented,
configurable :class:`SurveyMapping`, with response noise from a numpy Generator you
pass, so that a simulated survey looks like a real one and policies read in the
figures managers already use (seed 001).

It also models the complaint iceberg of seed 002 (only a third to a twelfth of
dissatisfied customers complain: :class:`ComplaintModel`), the extra damage of a
marketing promise that is then missed (:func:`missed_promise_gap`), and the
probability of not returning after a visit (:class:`ChurnModel`).

The answer model
----------------
Every closed question is an *ordered* answer to a latent score: the latent score
is a linear function of the remembered value (or of effort), Gaussian response noise
is added, and the result is rounded to the nearest answer and clipped to the scale
(an ordered-probit model with equally spaced cut points). With ``rng=None`` no noise
is added (the modal answer). Defaults (see :class:`SurveyMapping`):

* CSAT = round(3 + (remembered - csat_center) / csat_step + noise), 1..5: a visit that
  just met expectations (remembered 0) answers 3, each 2.5 points of remembered
  value is one answer step, so +5 answers 5 and -5 answers 1.
* likelihood to recommend = round(ltr_at_zero + ltr_slope * remembered + noise),
  0..10: a visit that just met expectations answers 7.5 on average, a *passive*
  (Reichheld 2003: satisfied is not loyal); promoters need about +3, detractors
  about -2 or below.
* CES (CES 2.0 wording, Dixon, Toman & DeLisi 2013: "the bank made it easy to handle
  my business", 1 = strongly disagree .. 7 = strongly agree, higher is easier) =
  round(ces_no_effort - ces_per_wait_minute * perceived wait - ces_abandonment *
  abandoned - ces_repeat_visit * repeat visits + noise), 1..7.
The code lives in three modules of this package: ``answers`` (the answer model and
the questions), ``behaviour`` (complaints, missed promises, churn) and ``surveys``
(surveys of simulated journeys); every name is imported from here.
"""

from __future__ import annotations

from peakend.metrics.answers import FloatArray as FloatArray
from peakend.metrics.answers import IntArray as IntArray
from peakend.metrics.answers import (
    SurveyMapping,
    csat,
    customer_effort,
    likelihood_to_recommend,
    net_promoter_score,
)
from peakend.metrics.behaviour import (
    SEED_COMPLAINT_RANGE,
    ChurnModel,
    ComplaintModel,
    churn_probability,
    complaints,
    early_warning,
    missed_promise_gap,
    with_marketing_uplift,
)
from peakend.metrics.surveys import ALL as ALL
from peakend.metrics.surveys import (
    SURVEY_METRICS,
    Survey,
    complaint_iceberg,
    segment_survey_metrics,
    survey,
)
from peakend.metrics.surveys import _perceived_wait_of as _perceived_wait_of  # peakend.loyalty
from peakend.metrics.surveys import _remembered_of as _remembered_of  # peakend.loyalty

__all__ = [
    "SEED_COMPLAINT_RANGE",
    "SURVEY_METRICS",
    "ChurnModel",
    "ComplaintModel",
    "Survey",
    "SurveyMapping",
    "churn_probability",
    "complaint_iceberg",
    "complaints",
    "csat",
    "customer_effort",
    "early_warning",
    "likelihood_to_recommend",
    "missed_promise_gap",
    "net_promoter_score",
    "segment_survey_metrics",
    "survey",
    "with_marketing_uplift",
]
