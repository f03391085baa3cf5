"""The incident status: one word for JSON, one for the first screen, ordered by urgency."""

from __future__ import annotations

import json

from forensics.model.incidents import IncidentStatus


def test_the_value_is_the_json_word_and_the_label_the_screen_word() -> None:
    assert [(s.value, s.label) for s in IncidentStatus] == [
        ("blocked", "BLOCKED"),
        ("at-risk", "AT RISK"),
        ("degraded", "DEGRADED"),
        ("recovered", "RECOVERED"),
        ("healthy", "HEALTHY"),
        ("unknown", "UNKNOWN"),
    ]
    assert IncidentStatus("at-risk") is IncidentStatus.AT_RISK
    assert json.dumps({"status": IncidentStatus.AT_RISK}) == '{"status": "at-risk"}'


def test_urgency_follows_the_declared_order() -> None:
    ordered = sorted(IncidentStatus, key=lambda s: -s.urgency)
    assert ordered[-1] is IncidentStatus.BLOCKED and ordered[0] is IncidentStatus.UNKNOWN
