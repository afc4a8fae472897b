"""Web forms of the spot-check pages: CSRF through Flask-WTF; the values go to the services, which
validate them (every error at once) for the form and the API alike."""

from __future__ import annotations

from flask_wtf import FlaskForm


class CsrfForm(FlaskForm):
    """The CSRF token of a page's forms (their fields are read by :func:`plan_data` or the views)."""


def _listed(form, name: str) -> list[str]:
    values = form.getlist(name)
    if len(values) == 1:  # a text box: comma or space separated
        values = values[0].replace(",", " ").replace("，", " ").split()
    return [v.strip() for v in values if v.strip()]


def _budgets(text: str) -> dict | None:
    """``35:10, 11:5`` (or one ``key n`` per line) → {"35": "10", "11": "5"}; the service checks the values."""
    out = {}
    for part in (text or "").replace("，", ",").replace("\n", ",").split(","):
        bits = part.replace("：", ":").replace(":", " ").split()
        if len(bits) == 2:
            out[bits[0]] = bits[1]
        elif bits:
            out[" ".join(bits)] = ""
    return out or None


def plan_data(form) -> dict:
    """The plan form as the API's body (spec/api.md): size given, or from the precision planner."""
    population = {
        "decided_from": form.get("decided_from", ""), "decided_to": form.get("decided_to", ""),
        "grades": form.getlist("grades"), "assessment_types": form.getlist("assessment_types"),
        "region_codes": _listed(form, "region_codes"), "body_credit_codes": _listed(form, "body_credit_codes"),
    }
    data = {"name": form.get("name", ""), "population": population,
            "uniform_share": form.get("uniform_share") or None, "strata": form.get("strata") or None,
            "budgets": _budgets(form.get("budgets", ""))}
    if form.get("sizing") == "precision":
        data["precision"] = {"half_width": form.get("half_width"), "expected_rate": form.get("expected_rate"),
                             "confidence": form.get("confidence") or 0.95}
    else:
        data["size"] = form.get("size")
    return data
