"""Figures other parts of the system add to the transparency page without this app knowing
them: guardrail exceptions, oversight findings, delayed owners' notices. Each app registers a
provider from its AppConfig.ready(); the monthly job asks it for each month's count (in the
department's schema) and the page shows its row. A known figure with no provider yet is shown
as "not tracked yet"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# count(start, end): how many in [start, end), in the current department's schema.
CountFn = Callable[[datetime, datetime], int]


@dataclass(frozen=True)
class Provider:
    name: str
    label: str | Promise
    count: CountFn


# The figures the page expects from other parts (issue 13), listed before their providers exist.
EXPECTED: dict[str, str | Promise] = {
    "guardrail_exceptions": _("Guardrail exceptions"),
    "guardrail_changes": _("Guardrail changes"),
    "oversight_findings": _("Oversight findings"),
    "oversight_resolutions": _("Oversight findings resolved"),
    "notice_delays": _("Owners' notices delayed"),
}

_providers: dict[str, Provider] = {}


def register(name: str, label: str | Promise, count: CountFn) -> None:
    """Add (or replace) the provider of a figure; `name` is a stable key (letters, digits, _)
    used in the CSV, the JSON and the schema."""
    if not name.replace("_", "").isalnum() or len(name) > 30:
        raise ValueError(f"A provider's name is letters, digits and _ (up to 30): {name!r}")
    _providers[name] = Provider(name, label, count)


def unregister(name: str) -> None:
    _providers.pop(name, None)


def registered() -> list[Provider]:
    return [_providers[name] for name in sorted(_providers)]


def untracked() -> list[tuple[str, str | Promise]]:
    """The expected figures no provider gives yet."""
    return [(name, label) for name, label in EXPECTED.items() if name not in _providers]


@dataclass(frozen=True)
class RulesProvider:
    """The rules a department has set on its own access, published as they stand with their
    changes: `rules()` gives (rule, value) lines in the visitor's language, `changes(since)` the
    (when, what) of each change since then, `stamp()` what changes when they change (the page's
    cached rendering depends on it). No person is named in any of them."""

    title: str | Promise
    rules: Callable[[], list[tuple[str, str]]]
    changes: Callable[[datetime], list[tuple[datetime, str]]]
    stamp: Callable[[], str]


_rules: dict[str, RulesProvider] = {}


def rules_register(name: str, provider: RulesProvider) -> None:
    _rules[name] = provider


def rules_registered() -> list[RulesProvider]:
    return [_rules[name] for name in sorted(_rules)]
