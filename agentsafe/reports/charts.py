"""Vega-Lite specs for the HTML report, built from Scorecards: every bar carries its count in a
label and its 95% interval as an error bar (the same figures as the terminal tables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentsafe.scoring import Rate, Scorecard

Spec = dict[str, Any]


def _row(rate: Rate, **keys: Any) -> dict[str, Any] | None:
    if rate.value is None:
        return None
    return {**keys, "value": rate.value, "lo": rate.ci_low if rate.ci_low is not None else rate.value,
            "hi": rate.ci_high if rate.ci_high is not None else rate.value,
            "label": rate.format(), "count": rate.counts()}


def _bars(title: str, rows: list[dict[str, Any]], category: str, *, color: str = "agent",
          axis_title: str = "rate", lower_better: bool | None = None) -> Spec:
    """Horizontal bars (value), grouped by `category` and coloured by `color`, with the 95%
    interval as a rule and the count as a text label."""
    arrow = "" if lower_better is None else (" (↓ lower is better)" if lower_better
                                             else " (↑ higher is better)")
    enc = {
        "y": {"field": category, "type": "nominal", "title": None},
        "yOffset": {"field": color, "type": "nominal"},
        "color": {"field": color, "type": "nominal", "title": color},
        "tooltip": [{"field": color}, {"field": category},
                    {"field": "label", "title": "value (count) [95% CI]"}],
    }
    x = {"field": "value", "type": "quantitative", "title": axis_title + arrow,
         "scale": {"domain": [0, 1]}}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title, "width": 420, "data": {"values": rows}, "encoding": enc,
        "height": {"step": 14},
        "layer": [
            {"mark": {"type": "bar"}, "encoding": {"x": x}},
            {"mark": {"type": "rule", "color": "#222"},
             "encoding": {"x": {"field": "lo", "type": "quantitative"}, "x2": {"field": "hi"}}},
            {"mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 9},
             "encoding": {"x": {"field": "hi", "type": "quantitative"}, "text": {"field": "count"}}},
        ],
    }


def risk_ratio_chart(cards: Mapping[str, Scorecard]) -> Spec:
    rows = [r for agent, c in cards.items() for dim, rate in c.risk_ratio.items()
            if (r := _row(rate, agent=agent, dimension=dim))]
    return _bars("Risk Ratio per dimension", rows, "dimension", axis_title="Risk Ratio",
                 lower_better=True)


def cup_cr_chart(cards: Mapping[str, Scorecard]) -> Spec:
    rows = [r for agent, c in cards.items() for name, rate in (("CR", c.cr), ("CuP", c.cup))
            if (r := _row(rate, agent=agent, metric=name))]
    return _bars("CuP against CR per agent", rows, "agent", color="metric",
                 axis_title="share of episodes", lower_better=False)


def category_chart(cards: Mapping[str, Scorecard]) -> Spec:
    rows = [r for agent, c in cards.items() for cat, sub in c.by_category.items()
            if (r := _row(sub.cup, agent=agent, category=cat))]
    return _bars("CuP per risk category", rows, "category", axis_title="CuP", lower_better=False)


def asr_chart(title: str, rates: Mapping[tuple[str, str], Rate], field: str) -> Spec:
    """ASR per (agent, group) where group is an attack template or a carrier."""
    rows = [r for (agent, group), rate in rates.items()
            if (r := _row(rate, agent=agent, **{field: group}))]
    return _bars(title, rows, field, axis_title="ASR", lower_better=True)
