"""The transparency report as the page, the CSV, the JSON and the feed publish it: read from the
precomputed figures (portal.transparency.services.figures_refresh) and passed through the one
suppression rule (portal.transparency.suppression). Nothing else is published."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.transparency import providers
from portal.transparency.models import ChainCheck, MonthComputed, MonthlyFigure, Policy
from portal.transparency.services import AREA_METRICS, months_until
from portal.transparency.suppression import SHOWN, TOTAL, WITHHELD, Cell, small, suppress
from tenants.models import Department

# A share whose owners reached is 0: there is nothing to divide.
NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    label: str
    shown: bool


@dataclass
class Row:
    key: str
    label: str | Promise
    cells: list[Cell]

    @property
    def is_total(self) -> bool:
        return self.key == TOTAL


@dataclass
class Table:
    key: str
    title: str | Promise
    unit: str  # "count", "minutes" or "percent"
    columns: list[str]  # "YYYY-MM" months, then "total" (area tables: "count")
    rows: list[Row]
    chart: bool = False
    bars: list[Bar] = field(default_factory=list)

    @property
    def total(self) -> Row:
        return self.rows[-1]


@dataclass
class Report:
    department: Department
    months: list[date]
    computed_at: datetime | None
    # When each month's figures were last computed (the feed's entries' dates).
    month_computed: dict[date, datetime]
    policy: Policy | None
    policy_version: int
    chain: ChainCheck | None
    area_tables: list[Table]
    monthly_tables: list[Table]
    not_tracked: list[tuple[str, str | Promise]]


# The monthly counts: (metric, title, categories from "offence" or "live" labels, charted).
COUNTS: list[tuple[str, str | Promise, str, bool]] = [
    ("reveals", _("Owners' contact details revealed"), "offence", True),
    ("footage_requests", _("Footage requests"), "offence", True),
    ("area_notices", _("Area notices sent"), "offence", True),
    ("owners_reached", _("Owners reached by area notices"), "offence", False),
    ("owners_answered", _("Owners who answered an area notice"), "offence", False),
    ("owners_with_footage", _("Owners who said they had footage"), "offence", False),
    ("live_views_emergency", _("Live views in an emergency"), "live", True),
    ("live_views_other", _("Live views for other reasons"), "live", True),
    ("opt_outs", _("Owners who opted out"), "", True),
]
RECIPIENT_GROUP = ("owners_reached", "owners_answered", "owners_with_footage")
SHARES = [
    ("share_answered", _("Share of owners reached who answered"), "owners_answered"),
    ("share_with_footage", _("Share of owners reached who had footage"), "owners_with_footage"),
]
MINUTES = [
    ("live_minutes_emergency", _("Minutes of live view in an emergency"), "live_views_emergency"),
    ("live_minutes_other", _("Minutes of live view for other reasons"), "live_views_other"),
]
AREA_TITLES = {
    "sites": _("Registered sites by ZIP code"),
    "devices": _("Integration devices by ZIP code"),
}
NO_CATEGORY = _("No category given")

CHART_WIDTH = 40
CHART_HEIGHT = 120


def month_column(month: date) -> str:
    return f"{month:%Y-%m}"


def _labels(department: Department, kind: str) -> dict[str, str]:
    program = department.program
    if kind == "offence":
        return dict(program.offence_type_choices())
    if kind == "live":
        return {str(reason["code"]): str(reason["label"]) for reason in program.live_reasons}
    return {}


def _rows(
    department: Department, kind: str, categories: list[str], columns: list[str], cells: dict
) -> list[Row]:
    labels = _labels(department, kind)
    rows = []
    if kind:
        for category in categories:
            label = labels.get(category, category) if category else NO_CATEGORY
            rows.append(Row(category, label, [cells[category, column] for column in columns]))
    rows.append(Row(TOTAL, _("All"), [cells[TOTAL, column] for column in columns]))
    return rows


def _bars(row: Row, months: int) -> list[Bar]:
    shown = [cell.value for cell in row.cells[:months] if cell.shown]
    top = max(shown, default=0) or 1
    bars = []
    for index, cell in enumerate(row.cells[:months]):
        height = round(CHART_HEIGHT * cell.value / top) if cell.shown else 0
        bars.append(
            Bar(
                x=index * CHART_WIDTH + 8,
                y=CHART_HEIGHT + 10 - height,
                height=height,
                label=str(cell.value) if cell.shown else "",
                shown=cell.shown,
            )
        )
    return bars


STAMP_SQL = f"""SELECT (SELECT max(computed_at) FROM {MonthComputed._meta.db_table}),
    (SELECT max(id) FROM {Policy._meta.db_table}),
    (SELECT max(id) FROM {ChainCheck._meta.db_table})"""


def report_stamp(*, department: Department, now: datetime | None = None) -> str:
    """What the published report depends on, in one query: the figures' last computation, the
    texts' version, the latest chain check, the providers and the current month. The page's
    rendering is cached under it (django-tenants puts the schema in every cache key)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(STAMP_SQL)
        computed, policy, chain = cursor.fetchone()
    month = now.astimezone(department.zone).strftime("%Y-%m")
    names = ",".join(provider.name for provider in providers.registered())
    rules = ",".join(provider.stamp() for provider in providers.rules_registered())
    return f"{month}|{computed}|{policy}|{chain}|{names}|{rules}"


def transparency_report(*, department: Department, now: datetime | None = None) -> Report:
    """Everything the page publishes, in the current department's schema."""
    now = now or timezone.now()
    months = [month.first_day for month in months_until(now, department.zone)]
    columns = [month_column(month) for month in months]
    figures = MonthlyFigure.objects.filter(month__gte=months[0], month__lte=months[-1]).values_list(
        "month", "metric", "category", "area", "value"
    )
    values: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    area_month: date | None = None
    areas: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for month, metric, category, area, value in figures:
        if metric in AREA_METRICS:
            if area_month is None or month > area_month:
                area_month = month
                areas.clear()
            if month == area_month:
                areas[metric][area, "count"] = value
            continue
        values[metric][category, month_column(month)] = value
    if area_month is None:
        # No refresh this year: the latest counts by area, however old.
        latest = MonthlyFigure.objects.filter(metric__in=AREA_METRICS).aggregate(m=Max("month"))
        if latest["m"] is not None:
            for metric, area, value in MonthlyFigure.objects.filter(
                metric__in=AREA_METRICS, month=latest["m"]
            ).values_list("metric", "area", "value"):
                areas[metric][area, "count"] = value

    monthly: dict[str, Table] = {}
    suppressed: dict[str, dict] = {}
    for metric, title, kind, chart in COUNTS:
        metric_values = values.get(metric, {})
        # The owners' three counts share their rows, so that shares can be taken cell by cell.
        group = RECIPIENT_GROUP if metric in RECIPIENT_GROUP else (metric,)
        categories = (
            sorted({category for key in group for category, _column in values.get(key, {})})
            if kind
            else [""]
        )
        withhold = None
        if metric in RECIPIENT_GROUP[1:]:
            # Owners reached minus those who answered (or had footage) is a count too.
            reached = suppressed["owners_reached"]

            def withhold(key: tuple[str, str], value: int, reached: dict = reached) -> bool:
                return small(reached[key].value - value)

        cells = suppress(metric_values, categories, columns, withhold=withhold)
        suppressed[metric] = cells
        table = Table(
            metric,
            title,
            "count",
            [*columns, "total"],
            _rows(department, kind, categories, [*columns, TOTAL], cells),
            chart,
        )
        if chart:
            table.bars = _bars(table.total, len(columns))
        monthly[metric] = table
    for metric, title, count_metric in MINUTES:
        count_cells = suppressed[count_metric]
        seconds_metric = count_metric.replace("views", "seconds")
        seconds = values.get(seconds_metric, {})
        minute_cells = {}
        for (row, column), count in count_cells.items():
            total = sum(
                value
                for (category, month), value in seconds.items()
                if (row == TOTAL or category == row) and (column == TOTAL or month == column)
            )
            minute_cells[row, column] = Cell(round(total / 60), count.status)
        categories = [row.key for row in monthly[count_metric].rows if not row.is_total]
        monthly[metric] = Table(
            metric,
            title,
            "minutes",
            [*columns, "total"],
            _rows(department, "live", categories, [*columns, TOTAL], minute_cells),
        )
    reached = suppressed["owners_reached"]
    for metric, title, part_metric in SHARES:
        part = suppressed[part_metric]
        share_cells = {}
        for key, whole in reached.items():
            piece = part[key]
            if not (whole.shown and piece.shown):
                share_cells[key] = Cell(0, WITHHELD)
            elif whole.value == 0:
                share_cells[key] = Cell(0, NOT_APPLICABLE)
            else:
                share_cells[key] = Cell(round(100 * piece.value / whole.value), SHOWN)
        categories = [row.key for row in monthly["owners_reached"].rows if not row.is_total]
        monthly[metric] = Table(
            metric,
            title,
            "percent",
            [*columns, "total"],
            _rows(department, "offence", categories, [*columns, TOTAL], share_cells),
        )
    for provider in providers.registered():
        metric = f"provider_{provider.name}"
        cells = suppress(values.get(metric, {}), [""], columns)
        monthly[metric] = Table(
            metric,
            provider.label,
            "count",
            [*columns, "total"],
            _rows(department, "", [""], [*columns, TOTAL], cells),
        )

    order = [
        "reveals",
        "footage_requests",
        "area_notices",
        "owners_reached",
        "owners_answered",
        "share_answered",
        "owners_with_footage",
        "share_with_footage",
        "live_views_emergency",
        "live_minutes_emergency",
        "live_views_other",
        "live_minutes_other",
        "opt_outs",
    ]
    tables = [monthly[key] for key in order] + [
        monthly[key] for key in monthly if key.startswith("provider_")
    ]

    area_tables = []
    for metric in AREA_METRICS:
        metric_values = areas.get(metric, {})
        area_keys = sorted({area for area, _column in metric_values})
        cells = suppress(metric_values, area_keys, ["count"])
        rows = [Row(area, area, [cells[area, "count"]]) for area in area_keys]
        rows.append(Row(TOTAL, _("All"), [cells[TOTAL, "count"]]))
        area_tables.append(Table(metric, AREA_TITLES[metric], "count", ["count"], rows))

    month_computed = dict(
        MonthComputed.objects.filter(month__gte=months[0]).values_list("month", "computed_at")
    )
    return Report(
        department=department,
        months=months,
        computed_at=max(month_computed.values(), default=None),
        month_computed=month_computed,
        policy=Policy.objects.first(),
        policy_version=Policy.objects.count(),
        chain=ChainCheck.objects.first(),
        area_tables=area_tables,
        monthly_tables=tables,
        not_tracked=providers.untracked(),
    )
