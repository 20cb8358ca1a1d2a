"""The monitor page (fg): aggregated figures of the covenant's cases as SVG charts with a data
table beside each, and the same figures as CSV. No subject reference or case reference appears.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Response, render_template
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

from gateway.console.charts import Bar, bar_chart
from gateway.console.views import PAGES, _now, bp, requires_role
from gateway.services import monitor
from gateway.web import request_connection

PAGES["console.monitor"] = frozenset({"fg"})
PAGES["console.monitor_csv"] = frozenset({"fg"})


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    svg: Markup


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return str(format_decimal(round(value, digits), format="#,##0.#"))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{_number(value * 100)} %"


def _chart(
    key: str,
    title: str,
    columns: Sequence[str],
    rows: Sequence[tuple[str, ...]],
    bars: Sequence[Bar],
    maximum: float | None = None,
) -> Chart:
    return Chart(
        key,
        title,
        tuple(columns),
        tuple(rows),
        bar_chart(f"chart-{key}", title, bars, maximum=maximum),
    )


def charts(fig: monitor.Figures) -> list[Chart]:
    months = fig.months
    month_col = _("Month")
    signal_rows = sorted(fig.signals.items())
    return [
        _chart(
            "signals",
            _("Signals per month per landlord"),
            (month_col, _("Landlord"), _("Signals")),
            [(m, landlord, str(n)) for (m, landlord), n in signal_rows],
            [Bar(f"{m} {landlord}", n, str(n)) for (m, landlord), n in signal_rows],
        ),
        _chart(
            "repeated",
            _("Repeated signals per month"),
            (month_col, _("Repeated signals"), _("All signals")),
            [(m, str(fig.repeated[m]), str(fig.signals_in(m))) for m in months],
            [Bar(m, fig.repeated[m], str(fig.repeated[m])) for m in months],
        ),
        _chart(
            "routing",
            _("Share routed to the directors rather than social work (AMW)"),
            (month_col, _("To the directors"), _("To AMW"), _("Share to the directors")),
            [
                (m, str(fig.to_directors[m]), str(fig.to_amw[m]), _percent(fig.directors_share(m)))
                for m in months
            ],
            [Bar(m, fig.directors_share(m), _percent(fig.directors_share(m))) for m in months],
            maximum=1.0,
        ),
        _chart(
            "priority",
            _("Priority share of the cases opened"),
            (month_col, _("Cases opened"), _("Priority"), _("Priority share")),
            [
                (
                    m,
                    str(fig.cases_opened[m]),
                    str(fig.priority_cases[m]),
                    _percent(fig.priority_share(m)),
                )
                for m in months
            ],
            [Bar(m, fig.priority_share(m), _percent(fig.priority_share(m))) for m in months],
            maximum=1.0,
        ),
        _chart(
            "contact",
            _("Median days from signal to first contact"),
            (month_col, _("Median days")),
            [(m, _number(fig.days_to_contact[m])) for m in months],
            [Bar(m, fig.days_to_contact[m], _number(fig.days_to_contact[m])) for m in months],
        ),
        _chart(
            "closure",
            _("Median days from signal to closure"),
            (month_col, _("Median days")),
            [(m, _number(fig.days_to_closure[m])) for m in months],
            [Bar(m, fig.days_to_closure[m], _number(fig.days_to_closure[m])) for m in months],
        ),
        _chart(
            "feedback",
            _("Feedback to landlords per month"),
            (month_col, _("Feedback messages")),
            [(m, str(fig.feedback[m])) for m in months],
            [Bar(m, fig.feedback[m], str(fig.feedback[m])) for m in months],
        ),
    ]


def _figures() -> monitor.Figures:
    return monitor.figures(request_connection(), _now().date())


@bp.route("/monitor", endpoint="monitor")
@requires_role
def monitor_page() -> str:
    fig = _figures()
    return render_template(
        "console/monitor.html",
        charts=charts(fig),
        first=fig.months[0],
        last=fig.months[-1],
    )


@bp.route("/monitor.csv")
@requires_role
def monitor_csv() -> Response:
    """The same figures as CSV for a spreadsheet: ';' separated, UTF-8 with a BOM."""
    fig = _figures()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("figure"), _("month"), _("group"), _("value")])
    for figure, month, group, value in monitor.rows(fig):
        text = "" if value is None else str(format_decimal(round(value, 3), format="0.###"))
        writer.writerow([figure, month, group, text])
    body = "\ufeff" + buffer.getvalue()
    name = f"sluis-monitor-{fig.months[0]}-{fig.months[-1]}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
