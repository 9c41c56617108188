"""The report as data: JSON (schema: static/transparency/schema.json), CSV (one figure a line)
and an Atom feed (one entry a month). Each is built from selectors.transparency_report only."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.etree import ElementTree

from django.utils import translation

from portal.transparency.selectors import Report, Table
from portal.transparency.suppression import TOTAL, Cell

SCHEMA_VERSION = 1


def _cell(cell: Cell) -> dict[str, Any]:
    return {"value": cell.published, "status": cell.status}


def _table(table: Table) -> dict[str, Any]:
    return {
        "title": str(table.title),
        "unit": table.unit,
        "rows": [
            {
                "category": "total" if row.key == TOTAL else row.key,
                "label": str(row.label),
                "cells": {
                    column: _cell(cell)
                    for column, cell in zip(table.columns, row.cells, strict=True)
                },
            }
            for row in table.rows
        ],
    }


def report_json(report: Report, *, schema_url: str, page_url: str) -> dict[str, Any]:
    policy = report.policy
    chain = report.chain
    return {
        "$schema": schema_url,
        "schema_version": SCHEMA_VERSION,
        "page": page_url,
        "department": report.department.name,
        "language": translation.get_language(),
        "computed_at": report.computed_at.isoformat() if report.computed_at else None,
        "months": [f"{month:%Y-%m}" for month in report.months],
        "suppression": {"threshold": 5, "statuses": ["shown", "fewer_than_5", "withheld"]},
        "policy": {
            "version": report.policy_version,
            "published_at": policy.created_at.isoformat() if policy else None,
            "policy": policy.policy_text if policy else "",
            "retention": policy.retention_text if policy else "",
            "funding": policy.funding_text if policy else "",
        },
        "audit_chain": {
            "checked_at": chain.checked_at.isoformat() if chain else None,
            "intact": chain.intact if chain else None,
            "entries": chain.entries if chain else None,
        },
        "by_area": {
            "area_kind": "zip_code",
            **{table.key: _table(table) for table in report.area_tables},
        },
        "monthly": {table.key: _table(table) for table in report.monthly_tables},
        "not_tracked": [name for name, _label in report.not_tracked],
    }


CSV_HEADER = ["section", "metric", "unit", "category", "label", "column", "value", "status"]


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for section, tables in (("by_area", report.area_tables), ("monthly", report.monthly_tables)):
        for table in tables:
            for row in table.rows:
                for column, cell in zip(table.columns, row.cells, strict=True):
                    writer.writerow(
                        [
                            section,
                            table.key,
                            table.unit,
                            "total" if row.key == TOTAL else row.key,
                            # Labels are the department's own words; a leading = + - @ would be
                            # a formula in a spreadsheet.
                            _safe(str(row.label)),
                            column,
                            "" if cell.published is None else cell.published,
                            cell.status,
                        ]
                    )
    return out.getvalue()


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


ATOM = "http://www.w3.org/2005/Atom"


def report_atom(
    report: Report, *, page_url: str, json_url: str, feed_url: str, host: str, words: dict[str, str]
) -> bytes:
    """One entry per month (newest first), its totals in words."""
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    updated = report.computed_at.isoformat() if report.computed_at else "1970-01-01T00:00:00+00:00"

    def sub(parent: ElementTree.Element, tag: str, text: str = "", **attrs: str) -> None:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text:
            element.text = text

    sub(feed, "id", f"tag:{host},2026:transparency")
    sub(feed, "title", words["title"])
    sub(feed, "updated", updated)
    sub(feed, "link", href=page_url)
    sub(feed, "link", rel="self", href=feed_url)
    author = ElementTree.SubElement(feed, f"{{{ATOM}}}author")
    sub(author, "name", report.department.name)
    for index in reversed(range(len(report.months))):
        month = report.months[index]
        entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        sub(entry, "id", f"tag:{host},2026:transparency:{month:%Y-%m}")
        sub(entry, "title", words["entry"].format(month=f"{month:%Y-%m}"))
        computed = report.month_computed.get(month)
        sub(entry, "updated", computed.isoformat() if computed else updated)
        sub(entry, "link", href=page_url)
        sub(entry, "link", rel="alternate", type="application/json", href=json_url)
        lines = []
        for table in report.monthly_tables:
            cell = table.total.cells[index]
            lines.append(f"{table.title}: {_words(cell, table.unit, words)}")
        sub(entry, "content", "\n".join(lines), type="text")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


def _words(cell: Cell, unit: str, words: dict[str, str]) -> str:
    if cell.status == "fewer_than_5":
        return words["fewer"]
    if cell.status == "withheld":
        return words["withheld"]
    if cell.status == "not_applicable":
        return "—"
    return f"{cell.value}%" if unit == "percent" else str(cell.value)
