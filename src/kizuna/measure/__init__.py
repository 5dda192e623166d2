"""Measurement: what campaigns and scenarios achieved against their control groups, and what customers are
worth.

- :mod:`~kizuna.measure.stats`: differences of proportions and of means with confidence intervals, and the
  verdict in words.
- :mod:`~kizuna.measure.experiment`: uplift of each arm of an imported campaign (an experiment) against its
  control group.
- :mod:`~kizuna.measure.campaign`: a scenario's runs, deliveries, responses, conversions, revenue, costs,
  ROI and uplift against its control group.
- :mod:`~kizuna.measure.rfm` and :mod:`~kizuna.measure.ltv`: RFM scores and segments; lifetime value with
  BG/NBD and Gamma-Gamma; :mod:`~kizuna.measure.value` computes them from the store and stores them.
"""
