"""The first-run checklist on a new department's dashboard: the steps the welcome email lists
(branding, terms, staff, import), each ticked off from the department's own records.

Which departments have one. Provisioning writes the checklist's row (SetupChecklist) when it
*invites* the first administrator (tenants' administrator_provisioned signal with
invited=True): a department made from a program request or the console's form, which somebody
now has to set up from scratch. Departments that existed before this feature have no row and
never show it, and neither do departments provisioned with a password for their administrator
(the demo cities concord, carrollton and littlerock, `make demo`, benchmarks): whoever ran that
command set them up. Reading the records alone was not an option: a long-running city may have
no terms or have never imported a list, and a nag about it would be noise, not onboarding.

How each step is read (never a box somebody ticks):
- Branding: done once the portal no longer looks as provisioning left it: its program name,
  logo, colours, welcome texts or languages (everything an administrator edits on
  /department/settings/portal/ apart from the terms) differ from the values recorded when the
  row was written. Uploading a logo, writing a welcome text or changing a colour completes it;
  saving the page unchanged does not, and neither does branding the vendor pre-filled.
- Terms: done when the program has a terms text, which participants accept when they register
  (Program.terms_set: whoever wrote it, the terms are in force).
- Staff: done when the department has a second account besides vendor support identities:
  somebody was invited (an invitation is a StaffMember without a password yet) or exists.
- Import: done when an import was written (an ImportJob DONE), or when an administrator said
  the department has no existing list to import; that answer is stored with who and when and
  can be taken back.
There is no "set up two-factor sign-in" step: the console's staff_required sends staff without
a second factor to set one up before any console page, the dashboard included.

Only administrators see the checklist (the ACCOUNTS capability: a department's own
administrators, never an investigator nor a vendor support session). Once every step is done
an administrator may hide it for good; "show setup steps" brings it back. Reading it costs
one query (the row with the staff and import facts as subqueries), nothing for other staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, F, Func, IntegerField, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.department.models import SetupChecklist
from portal.registry.audit import Actor
from portal.registry.models import Capability, ImportJob, StaffMember
from tenants.models import Branding, Department

# The branding fields an administrator sets on the portal settings page.
BRANDING_FIELDS = (
    "display_name",
    "primary_color",
    "accent_color",
    "welcome_en",
    "welcome_es",
    "languages",
)


def branding_fingerprint(branding: Branding) -> dict[str, Any]:
    """How a portal looks, as recorded when its checklist starts and compared afterwards."""
    fingerprint: dict[str, Any] = {name: getattr(branding, name) for name in BRANDING_FIELDS}
    fingerprint["languages"] = list(branding.languages)
    fingerprint["logo"] = branding.logo.name or ""
    return fingerprint


@dataclass(frozen=True)
class SetupStep:
    """One step as an administrator sees it: what to do, where, and whether it is done."""

    key: str
    title: str | Promise
    description: str | Promise
    url: str
    done: bool
    # The import step only: an administrator said there is no existing list.
    waived_at: datetime | None = None
    waived_by: str | None = None

    @property
    def waived(self) -> bool:
        return self.waived_at is not None

    @property
    def state(self) -> str:
        return "waived" if self.waived else "done" if self.done else "todo"

    @property
    def state_label(self) -> str | Promise:
        if self.waived:
            return _("Not needed")
        return _("Done") if self.done else _("To do")


@dataclass(frozen=True)
class SetupProgress:
    """A department's checklist: its steps in the welcome email's order, and whether it was
    hidden once complete."""

    steps: list[SetupStep]
    hidden: bool

    @property
    def done_count(self) -> int:
        return sum(1 for step in self.steps if step.done or step.waived)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def complete(self) -> bool:
        return self.done_count == self.total


def _with_facts(checklists: Any) -> Any:
    """The checklist row with the staff count and whether an import was written, in its query."""
    accounts = (
        StaffMember.objects.exclude(role=StaffMember.Role.SUPPORT)
        .order_by()
        .annotate(total=Func("pk", function="COUNT"))
        .values("total")
    )
    return checklists.annotate(
        waived_by_email=F("import_waived_by__user__email"),
        staff_count=Subquery(accounts, output_field=IntegerField()),
        imported=Exists(ImportJob.objects.filter(status=ImportJob.Status.DONE)),
    )


def _progress(checklist: Any, department: Department) -> SetupProgress:
    """The steps of a checklist row read by _with_facts, for the department it belongs to."""
    steps = [
        SetupStep(
            key="branding",
            title=_("Brand your portal"),
            description=_("Add your logo, colors and a welcome text for residents."),
            url=reverse("department:portal_settings"),
            done=branding_fingerprint(department.branding) != checklist.branding_at_start,
        ),
        SetupStep(
            key="terms",
            title=_("Write your program's terms"),
            description=_("Residents accept them when they register their cameras."),
            url=reverse("department:portal_settings") + "#id_terms_text",
            done=bool(department.program.terms_text.strip()),
        ),
        SetupStep(
            key="staff",
            title=_("Invite your staff"),
            description=_("Investigators, operators, analysts and other administrators."),
            url=reverse("department:staff"),
            done=(checklist.staff_count or 0) >= 2,
        ),
        SetupStep(
            key="import",
            title=_("Import your existing list"),
            description=_("Cameras already registered in a spreadsheet (CSV or GeoJSON)."),
            url=reverse("department:import"),
            done=bool(checklist.imported),
            waived_at=None if checklist.imported else checklist.import_waived_at,
            waived_by=checklist.waived_by_email,
        ),
    ]
    return SetupProgress(steps=steps, hidden=checklist.hidden_at is not None)


def setup_checklist_for(*, staff: StaffMember, department: Department) -> SetupProgress | None:
    """The checklist the dashboard shows this staff member, or None: not an administrator, or
    a department without one (see the module's docstring)."""
    if not staff.can(Capability.ACCOUNTS):
        return None
    checklist = _with_facts(SetupChecklist.objects.filter(pk=SetupChecklist.ONLY)).first()
    if checklist is None:
        return None
    return _progress(checklist, department)


def setup_checklist_start(*, department: Department, invited: bool, **_signal: object) -> None:
    """Provisioning invited a department's first administrator: the department starts its
    checklist, recording how its portal looks now (tenants' administrator_provisioned signal,
    in the new department's schema and the provisioning's transaction). Provisioning again
    keeps the row it has."""
    if invited:
        SetupChecklist.objects.get_or_create(
            pk=SetupChecklist.ONLY,
            defaults={"branding_at_start": branding_fingerprint(department.branding)},
        )


class SetupRefused(Exception):
    """A change to the checklist that cannot be made, with the message to show."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(str(message))
        self.message = message


class SetupChange(models.TextChoices):
    """What an administrator may change on the checklist."""

    IMPORT_NOT_NEEDED = "import_not_needed"
    IMPORT_NEEDED = "import_needed"
    HIDE = "hide"
    SHOW = "show"


@transaction.atomic
def setup_checklist_change(*, actor: Actor, department: Department, change: str) -> SetupProgress:
    """Say the department has no existing list to import (or take that back), hide the
    completed checklist or show it again; returns the checklist as it now is. Only a
    department's administrators may; a department without a checklist has nothing to change."""
    member = actor.as_staff()
    if not member.can(Capability.ACCOUNTS):
        raise SetupRefused(_("Only an administrator can change the setup steps."))
    # Locked first (no join: FOR UPDATE refuses the nullable ones), then read with its facts.
    if not SetupChecklist.objects.select_for_update().filter(pk=SetupChecklist.ONLY).exists():
        raise SetupRefused(_("This department has no setup steps."))
    checklist = _with_facts(SetupChecklist.objects.filter(pk=SetupChecklist.ONLY)).get()
    now = timezone.now()
    if change == SetupChange.IMPORT_NOT_NEEDED:
        if checklist.import_waived_at is None:
            checklist.import_waived_at, checklist.import_waived_by = now, member
            checklist.waived_by_email = member.user.email
    elif change == SetupChange.IMPORT_NEEDED:
        checklist.import_waived_at, checklist.import_waived_by = None, None
        checklist.waived_by_email = None
    elif change == SetupChange.HIDE:
        if not _progress(checklist, department).complete:
            raise SetupRefused(_("The setup steps can be hidden once every one is done."))
        if checklist.hidden_at is None:
            checklist.hidden_at, checklist.hidden_by = now, member
    elif change == SetupChange.SHOW:
        checklist.hidden_at, checklist.hidden_by = None, None
    else:
        raise SetupRefused(_("Unknown change to the setup steps."))
    checklist.save(update_fields=["import_waived_at", "import_waived_by", "hidden_at", "hidden_by"])
    return _progress(checklist, department)
