"""The registry core, in each department's own schema: participants, their sites and cameras,
the department's staff, and the append-only audit trail of every access to them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import F, Func, Prefetch, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.registry.support import SupportAccess
from tenants.models import Program

YEAR = timedelta(days=365)


class UndeliverableReason(models.TextChoices):
    """Why the email provider gave up on an address (anymail's event types that are final)."""

    BOUNCED = "bounced", _("it bounced")
    COMPLAINED = "complained", _("the owner reported it as spam")
    REJECTED = "rejected", _("the provider refused to send to it")


class Participant(models.Model):
    """A resident or business account on one city's portal, and its yearly confirmation."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LAPSED = "lapsed", _("Lapsed")
        PURGED = "purged", _("Removed after lapsing")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participant"
    )
    organisation_name = models.CharField(_("organization name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=5, default="en")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    confirmed_at = models.DateTimeField(default=timezone.now)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    lapsed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The email provider reported the account's address as undeliverable (portal.registry.
    # bounces): staff see it beside the owner's contact details, and notices skip the owner.
    # Cleared when the owner changes or confirms their address again (cleared_at then stops
    # an older report, delivered late or again, from marking it once more).
    email_undeliverable_at = models.DateTimeField(null=True, blank=True)
    email_undeliverable_reason = models.CharField(
        max_length=12, choices=UndeliverableReason.choices, blank=True
    )
    # What the provider said, in its words (English), without the address.
    email_undeliverable_detail = models.CharField(max_length=200, blank=True)
    email_undeliverable_cleared_at = models.DateTimeField(null=True, blank=True)
    # The owner's choice on their account page (portal.residents.account_views): area notices
    # ("check your camera") reach them only while it is on; footage requests about their own
    # site always do (area_notices_condition).
    area_notices = models.BooleanField(_("area notices"), default=True)

    def __str__(self) -> str:
        return self.organisation_name or self.user.email

    @property
    def email_deliverable(self) -> bool:
        """email_deliverable_condition() for one loaded participant."""
        return self.email_undeliverable_at is None

    @property
    def is_confirmed(self) -> bool:
        """confirmed_condition() for one loaded participant."""
        return self.status == self.Status.ACTIVE

    def anniversary(self) -> datetime:
        return self.confirmed_at + YEAR

    def notice_due(self, program: Program, now: datetime) -> bool:
        return (
            self.is_confirmed
            and self.notice_sent_at is None
            and now >= self.anniversary() - timedelta(days=program.verification_notice_days)
        )

    def reminder_due(self, now: datetime) -> bool:
        return self.is_confirmed and self.reminder_sent_at is None and now >= self.anniversary()

    def lapse_due(self, program: Program, now: datetime) -> bool:
        return self.is_confirmed and now >= self.anniversary() + timedelta(
            days=program.verification_grace_days
        )

    def purge_due(self, program: Program, now: datetime) -> bool:
        return (
            self.status == self.Status.LAPSED
            and self.lapsed_at is not None
            and now >= self.lapsed_at + timedelta(days=program.purge_after_days)
        )


def confirmed_condition(path: str = "") -> Q:
    """The one definition of a confirmed registration (neither lapsed nor removed), as a
    condition on the participant at `path` ("" from Participant, "participant__" from a site),
    so that filters and counts (Count(filter=...)) say the same thing."""
    return Q(**{f"{path}status": Participant.Status.ACTIVE})


def email_deliverable_condition(path: str = "") -> Q:
    """The one definition of an owner the department can email: no undeliverable report on
    their address (portal.registry.bounces), as a condition on the participant at `path`."""
    return Q(**{f"{path}email_undeliverable_at__isnull": True})


def area_notices_condition(path: str = "") -> Q:
    """The one definition of an owner an area notice may reach: one who has not turned area
    notices off on their account page, as a condition on the participant at `path`."""
    return Q(**{f"{path}area_notices": True})


def site_location() -> Func:
    """A site's place as a geometric point(longitude, latitude): the expression the location
    index (GiST) holds, so searches that ask about it in the same words read the index."""
    return Func(F("longitude"), F("latitude"), function="point", output_field=models.FloatField())


class SiteQuerySet(models.QuerySet["Site"]):
    # The rules as conditions too, for counts over all sites in one query (the dashboard).
    @staticmethod
    def searchable_condition() -> Q:
        """The one definition of a site that staff searches may show: not paused by its owner,
        and its owner's registration confirmed (neither lapsed nor removed)."""
        return Q(paused=False) & confirmed_condition("participant__")

    @staticmethod
    def lapsed_condition() -> Q:
        return ~confirmed_condition("participant__")

    @staticmethod
    def paused_condition() -> Q:
        return Q(paused=True)

    def searchable(self) -> SiteQuerySet:
        return self.filter(self.searchable_condition())

    def lapsed(self) -> SiteQuerySet:
        """Sites whose owner's registration is no longer confirmed (lapsed or removed)."""
        return self.filter(self.lapsed_condition())

    def paused(self) -> SiteQuerySet:
        """Sites their owner paused (whatever the state of the registration)."""
        return self.filter(self.paused_condition())

    def terms_outdated(self, terms_version: int) -> SiteQuerySet:
        """Sites whose owner accepted terms older than the department's current version: the
        owner is asked to accept the new ones at their next visit (portal.residents)."""
        return self.filter(terms_version__lt=terms_version)

    def with_active_cameras(self) -> SiteQuerySet:
        """Each site with its active cameras loaded in one more query (Site.active_cameras)."""
        return self.prefetch_related(
            Prefetch("cameras", queryset=Camera.objects.active(), to_attr=ACTIVE_CAMERAS)
        )


# Where SiteQuerySet.with_active_cameras() leaves a site's active cameras.
ACTIVE_CAMERAS = "_active_cameras"


class Site(models.Model):
    """An address where a participant has cameras, with how to reach its owner."""

    class Kind(models.TextChoices):
        HOME = "home", _("Home")
        BUSINESS = "business", _("Business")
        OTHER = "other", _("Other")

    class Participation(models.TextChoices):
        REGISTERED = "registered", _("Register: location and contact only")
        INTEGRATED = "integrated", _("Integrate: share video during emergencies")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("Phone call")
        TEXT = "text", _("Text message")
        EMAIL = "email", _("Email")

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="sites")
    kind = models.CharField(_("type of site"), max_length=10, choices=Kind.choices)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    participation = models.CharField(
        _("participation"),
        max_length=10,
        choices=Participation.choices,
        default=Participation.REGISTERED,
    )
    contact_name = models.CharField(_("contact name"), max_length=100)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("email"), max_length=254, blank=True)
    contact_method = models.CharField(
        _("preferred contact method"), max_length=5, choices=ContactMethod.choices
    )
    contact_hours = models.CharField(_("best hours to reach you"), max_length=100, blank=True)
    paused = models.BooleanField(_("paused"), default=False)
    terms_version = models.PositiveIntegerField()
    terms_accepted_at = models.DateTimeField()
    yard_sign_requested = models.BooleanField(_("yard sign requested"), default=False)
    yard_sign_address = models.CharField(
        _("yard sign delivery address"), max_length=200, blank=True
    )
    # The department's fulfilment of a requested sign (portal.department.yard_sign_views).
    yard_sign_delivered_at = models.DateTimeField(null=True, blank=True)
    yard_sign_delivered_by = models.ForeignKey(
        "StaffMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["latitude", "longitude"]),
            # The distance search's index: a box around the searched circle is answered from
            # it (portal.registry.selectors.sites_near), at any radius.
            GistIndex(site_location(), name="registry_site_location"),
            # The yard signs still to deliver, oldest request first (the fulfilment list).
            models.Index(
                fields=["created_at", "id"],
                name="site_yard_sign_pending",
                condition=models.Q(yard_sign_requested=True, yard_sign_delivered_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def yard_sign_destination(self) -> str:
        """Where a requested sign goes: the address given for it, else the site's own."""
        return self.yard_sign_address or self.address

    @property
    def is_searchable(self) -> bool:
        """SiteQuerySet.searchable() for one loaded site (its participant is read)."""
        return not self.paused and self.participant.is_confirmed

    @property
    def active_cameras(self) -> list[Camera]:
        """The cameras staff may see and count (Camera.objects.active()): what every staff
        page, export and count lists; the owner alone sees their paused cameras too."""
        loaded = getattr(self, ACTIVE_CAMERAS, None)
        return loaded if loaded is not None else list(self.cameras.active())


# The eight compass points, clockwise from north, as a view direction is said in words.
COMPASS_POINTS = (
    pgettext_lazy("compass", "north"),
    pgettext_lazy("compass", "northeast"),
    pgettext_lazy("compass", "east"),
    pgettext_lazy("compass", "southeast"),
    pgettext_lazy("compass", "south"),
    pgettext_lazy("compass", "southwest"),
    pgettext_lazy("compass", "west"),
    pgettext_lazy("compass", "northwest"),
)


def compass_point(degrees: int) -> str:
    """The compass point nearest a direction in degrees (0 north, 90 east): "northeast"."""
    return str(COMPASS_POINTS[round((degrees % 360) / 45) % 8])


class CameraQuerySet(models.QuerySet["Camera"]):
    def active(self) -> CameraQuerySet:
        """The one definition of a camera staff may count on: not paused by its owner."""
        return self.filter(paused=False)


class Camera(models.Model):
    """One camera at a site: which way it looks, what it sees, how long it keeps video."""

    class Sees(models.TextChoices):
        STREET = "street", _("Street")
        SIDEWALK = "sidewalk", _("Sidewalk")
        DRIVEWAY = "driveway", _("Driveway")
        ALLEY = "alley", _("Alley")
        PARKING = "parking", _("Parking")
        ENTRANCE = "entrance", _("Entrance")

    class Mount(models.TextChoices):
        WALL = "wall", _("Wall")
        CEILING = "ceiling", _("Ceiling or eave")
        POLE = "pole", _("Pole")
        DOORBELL = "doorbell", _("Doorbell")
        WINDOW = "window", _("Inside a window")

    class Recording(models.TextChoices):
        CONTINUOUS = "continuous", _("Continuous")
        MOTION = "motion", _("On motion")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="cameras")
    label = models.CharField(_("label"), max_length=80)
    direction = models.PositiveSmallIntegerField(
        pgettext_lazy("camera", "view direction (degrees)"), validators=[MaxValueValidator(359)]
    )
    sees = ArrayField(
        models.CharField(max_length=10, choices=Sees.choices), verbose_name=_("what it sees")
    )
    mount = models.CharField(_("mount"), max_length=10, choices=Mount.choices)
    recording = models.CharField(_("recording"), max_length=10, choices=Recording.choices)
    retention_days = models.PositiveSmallIntegerField(
        _("days of video kept"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    night_vision = models.BooleanField(_("night vision"), default=False)
    paused = models.BooleanField(_("paused"), default=False)

    objects = CameraQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label

    def sees_labels(self) -> list[str]:
        labels = dict(self.Sees.choices)
        return [str(labels.get(value, value)) for value in self.sees]

    @property
    def facing(self) -> str:
        """The compass point the camera faces, in words ("northeast")."""
        return compass_point(self.direction)

    def sees_phrases(self) -> list[str]:
        """What the camera sees as words inside a sentence ("the street", "the alley")."""
        return [str(SEES_PHRASES.get(value, value)) for value in self.sees]


# What a camera sees, as the words go inside a sentence ("sees the street and the alley").
SEES_PHRASES: dict[str, Promise] = {
    Camera.Sees.STREET: pgettext_lazy("camera sees", "the street"),
    Camera.Sees.SIDEWALK: pgettext_lazy("camera sees", "the sidewalk"),
    Camera.Sees.DRIVEWAY: pgettext_lazy("camera sees", "the driveway"),
    Camera.Sees.ALLEY: pgettext_lazy("camera sees", "the alley"),
    Camera.Sees.PARKING: pgettext_lazy("camera sees", "the parking lot"),
    Camera.Sees.ENTRANCE: pgettext_lazy("camera sees", "the entrance"),
}


class OptOut(models.Model):
    """What the department keeps of an opt-out: that it happened and how much went, no person."""

    created_at = models.DateTimeField(auto_now_add=True)
    sites_deleted = models.PositiveIntegerField()
    cameras_deleted = models.PositiveIntegerField()
    account_closed = models.BooleanField()

    def __str__(self) -> str:
        return f"Opt-out on {self.created_at:%Y-%m-%d}"


class Capability(models.TextChoices):
    """What a staff member may do; each role's rights are written once, in ROLE_CAPABILITIES."""

    CASEWORK = "casework", _("Open incidents, canvass, notify owners, request footage")
    PERSONAL_DATA = "personal_data", _("See owners' contact details and exact locations")
    INACTIVE_SITES = "inactive_sites", _("See paused and lapsed sites")
    ADMINISTER = "administer", _("Invite staff, import and export, read the audit trail")
    LIVE_VIEW = "live_view", _("Open an owner's shared camera live, with a reason")
    # Kept apart from ADMINISTER so that a vendor support session, even one allowed to write,
    # can never give itself (or anyone) a lasting account in the city.
    ACCOUNTS = (
        "accounts",
        _("Invite staff, change their roles and accounts, oversee vendor support"),
    )
    # The council's or an auditor's reading of the audit trail without residents' personal
    # data, with flags and findings (portal.oversight); never casework or personal data.
    OVERSEE = (
        "oversee",
        _("Read the audit trail without personal data, flag entries, record findings"),
    )


class StaffMember(models.Model):
    """A department account with a role; residents have a Participant instead."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", _("Administrator")
        INVESTIGATOR = "investigator", _("Investigator")
        OPERATOR = "operator", _("Real-time crime center operator")
        ANALYST = "analyst", _("Analyst")
        # Vendor staff acting through a support session (portal.registry.support); never
        # given by an administrator (ASSIGNABLE_ROLES).
        SUPPORT = "support", _("Vendor support")
        # A council member or auditor (portal.oversight): reads, flags and records findings.
        OVERSIGHT = "oversight", _("Oversight (council member or auditor)")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the last invitation email was sent (null for accounts made otherwise): a resend
    # waits INVITATION_RESEND_AFTER after it.
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    # Not a column: the live support session a support identity acts in during this request
    # (set by the console's staff_required); None outside one.
    support_access: SupportAccess | None = None

    def __str__(self) -> str:
        return f"{self.user.email} ({self.get_role_display()})"

    @property
    def is_support(self) -> bool:
        return self.role == self.Role.SUPPORT

    @property
    def is_pending(self) -> bool:
        """Invited and not yet arrived: the account has no password and never signed in (the
        one rule for "pending", used by the staff page and the invitation services)."""
        return self.user.last_login is None and not self.user.has_usable_password()

    @property
    def capabilities(self) -> frozenset[str]:
        role = self.Role(self.role)
        if role is not self.Role.SUPPORT:
            return ROLE_CAPABILITIES[role]
        if self.support_access is None:
            return frozenset()
        if self.support_access.write:
            return ROLE_CAPABILITIES[role] | SUPPORT_WRITE_CAPABILITIES
        return ROLE_CAPABILITIES[role]

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    # The same rules, by name, for templates ({% if staff.can_casework %}).
    @property
    def can_casework(self) -> bool:
        return self.can(Capability.CASEWORK)

    @property
    def sees_personal_data(self) -> bool:
        """Analysts work with counts and coarse locations only, never with owners' details."""
        return self.can(Capability.PERSONAL_DATA)

    @property
    def sees_inactive_sites(self) -> bool:
        return self.can(Capability.INACTIVE_SITES)

    @property
    def can_administer(self) -> bool:
        return self.can(Capability.ADMINISTER)

    @property
    def can_manage_accounts(self) -> bool:
        return self.can(Capability.ACCOUNTS)

    @property
    def can_watch_live(self) -> bool:
        return self.can(Capability.LIVE_VIEW)

    @property
    def can_oversee(self) -> bool:
        return self.can(Capability.OVERSEE)


ROLE_CAPABILITIES: dict[StaffMember.Role, frozenset[str]] = {
    # Oversight is the council's, not the department's: administrators answer findings, they
    # do not record them.
    StaffMember.Role.ADMINISTRATOR: frozenset(Capability.values) - {Capability.OVERSEE},
    StaffMember.Role.INVESTIGATOR: frozenset(
        {Capability.CASEWORK, Capability.PERSONAL_DATA, Capability.LIVE_VIEW}
    ),
    StaffMember.Role.OPERATOR: frozenset(
        {Capability.CASEWORK, Capability.PERSONAL_DATA, Capability.LIVE_VIEW}
    ),
    StaffMember.Role.ANALYST: frozenset(),
    # A read-only vendor support session: an administrator's pages, without owners' personal
    # data (exports, import previews, subscriptions' addresses, exact map positions), without
    # casework and live view, without staff accounts (portal.registry.support).
    StaffMember.Role.SUPPORT: frozenset({Capability.ADMINISTER, Capability.INACTIVE_SITES}),
    StaffMember.Role.OVERSIGHT: frozenset({Capability.OVERSEE}),
}
# What the department administrator's approval of write access adds to a support session: the
# personal data an administrator's pages hand out, each read audited as the support identity
# with its session. Never casework, live view or staff accounts.
SUPPORT_WRITE_CAPABILITIES = frozenset({Capability.PERSONAL_DATA})
# The roles an administrator may give (invitations, role changes).
ASSIGNABLE_ROLES = [
    (value, label) for value, label in StaffMember.Role.choices if value != StaffMember.Role.SUPPORT
]


class AuditEntry(models.Model):
    """Who saw or moved personal data, when, why and from where. Append-only: PostgreSQL refuses
    any UPDATE, DELETE or TRUNCATE of this table (see the migrations). Sites, participants and
    incidents are referred to by id, not by foreign key, so that deleting them (opt-out, purge)
    never has to touch an entry, the registry core depends on nothing above it, and an entry
    holds no personal data of its own."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Contact details revealed")
        EXPORT = "export", _("Registry exported")
        NOTIFY = "notify", _("Area notified")
        FOOTAGE_REQUEST = "footage_request", _("Footage requested")
        DOWNLOAD = "download", _("Footage downloaded")
        # A download attempted while the storage could not hand the clip out (issue 16).
        DOWNLOAD_FAILED = "download_failed", _("Footage download failed (storage unavailable)")
        LIVE_FEED = "live_feed", _("Live feed opened")
        LIVE_FEED_END = "live_feed_end", _("Live feed closed")
        STAFF_INVITE = "staff_invite", _("Staff member invited")
        STAFF_ROLE_CHANGE = "staff_role_change", _("Staff role changed")
        STAFF_DEACTIVATE = "staff_deactivate", _("Staff account deactivated")
        STAFF_REACTIVATE = "staff_reactivate", _("Staff account reactivated")
        IMPORT = "import", _("Registry imported")
        CANVASS_VIEW = "canvass_view", _("Canvass addresses viewed")
        MAP_VIEW = "map_view", _("Exact locations viewed on the map")
        IMPORT_PREVIEW = "import_preview", _("Registry import previewed")
        INTEGRATION_START = "integration_start", _("Integration started (subscription paid)")
        INTEGRATION_END = "integration_end", _("Integration ended (subscription ended)")
        SUBSCRIPTIONS_VIEW = "subscriptions_view", _("Device subscriptions' addresses viewed")
        SUPPORT_START = "support_start", _("Vendor support session started")
        SUPPORT_WRITE = "support_write", _("Vendor support write access approved")
        SUPPORT_END = "support_end", _("Vendor support session ended")
        SUPPORT_ACTION = "support_action", _("Vendor support changed something")
        OVERSIGHT_FLAG = "oversight_flag", _("Entry flagged for review (oversight)")
        OVERSIGHT_FINDING = "oversight_finding", _("Finding recorded (oversight)")
        OVERSIGHT_RESOLUTION = "oversight_resolution", _("Finding resolved")
        GUARDRAIL_CHANGE = "guardrail_change", _("Guardrails changed")
        GUARDRAIL_EXCEPTION = "guardrail_exception", _("Guardrail overridden in an emergency")
        # Residents' self-service (portal.residents.account_views): the owner's own acts.
        OWNER_EXPORT = "owner_export", _("Owner downloaded their own data")
        ANSWER_CHANGE = "answer_change", _("Owner changed their answer to a request")
        # Issue 12 (the console's records): invitations and yard signs.
        STAFF_INVITE_RESEND = "staff_invite_resend", _("Staff invitation sent again")
        STAFF_INVITE_REVOKE = "staff_invite_revoke", _("Staff invitation revoked")
        YARD_SIGNS_VIEW = "yard_signs_view", _("Yard-sign addresses viewed")
        YARD_SIGN_DELIVERED = "yard_sign_delivered", _("Yard sign delivered")
        # An incident's case number, offense type, description or time window changed; the
        # case closed or reopened (issue 12).
        INCIDENT_EDIT = "incident_edit", _("Incident edited")
        INCIDENT_CLOSE = "incident_close", _("Incident closed")
        INCIDENT_REOPEN = "incident_reopen", _("Incident reopened")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_email = models.EmailField()
    actor_role = models.CharField(max_length=16)
    action = models.CharField(max_length=20, choices=Action.choices)
    site_id = models.BigIntegerField(null=True, blank=True)
    participant_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    incident_id = models.BigIntegerField(null=True, blank=True)
    case_number = models.CharField(max_length=40, blank=True)
    # The structured reason: an offence type code from the department's list (the incident's),
    # the case number above, and the staff member's optional note (never the owner's details).
    # Empty by default in the database too: entries written before these columns existed
    # hash the same (see the chain migration).
    category = models.CharField(max_length=40, blank=True, db_default="")
    note = models.CharField(max_length=500, blank=True, db_default="")
    reason = models.CharField(max_length=500)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The vendor support session (console.SupportSession, public schema) an entry was written
    # in, by the support identity or about the session; nullable so older entries still verify.
    support_session_id = models.BigIntegerField(null=True, blank=True)
    # A chain per city: PostgreSQL sets id, `at` and these two as it writes an entry, whatever
    # the caller sent; `hash` is sha256 of `prev_hash` and the entry's other columns (migration
    # 0006_auditdb_hash_chain). A column added later must be nullable or default to "" so that
    # older entries still verify (`manage.py audit_verify`).
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The audit page's filters, newest first a page at a time (portal.department.
            # audit_views): ids follow `at` (the chain trigger numbers and dates entries in one
            # order), so each filter reads its next page from one index without a sort.
            models.Index(fields=["action", "-id"], name="auditentry_action_id"),
            models.Index(
                fields=["case_number", "-id"],
                name="auditentry_case_id",
                condition=~models.Q(case_number=""),
            ),
            # Whether a staff member's canvass visit is already recorded (portal.department.
            # services.canvass_viewed, on every canvass page): read from the incident's own
            # entries, not by filtering every canvass view the department ever recorded.
            models.Index(
                fields=["incident_id", "actor_email", "-at"],
                name="auditentry_canvass_visit",
                condition=models.Q(action="canvass_view"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"


class ImportJob(models.Model):
    """A department's registry import: the uploaded file, checked and then written by background
    jobs (portal.department.tasks), with their progress and the row-by-row report.

    It lives in the registry core, beside what it writes, so that an owner's opt-out (a registry
    service) can remove the owner's rows from pending imports without calling upwards."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked, waiting for confirmation")
        FAILED = "failed", _("Problems found: nothing imported")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        CANCELLED = "cancelled", _("Canceled")
        EXPIRED = "expired", _("Expired: not confirmed within a day")

    # Imports still holding rows (a file or checked sites) that nobody has written or dropped.
    PENDING = (Status.CHECKING, Status.CHECKED, Status.COMMITTING)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    filename = models.CharField(max_length=100)
    stored_name = models.CharField(max_length=200, blank=True)
    # Bumped whenever an opt-out rewrites the stored file: a check that read an older version
    # starts again rather than keep the removed rows.
    revision = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    site_count = models.PositiveIntegerField(default=0)
    camera_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        StaffMember, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    committed_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    committed_from = models.GenericIPAddressField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.COMMITTING)

    @property
    def percent_checked(self) -> int:
        return 100 * self.rows_checked // self.rows if self.rows else 0

    def sites_drop(self) -> int:
        """Delete the job's checked sites in one statement; returns how many went. (A queryset's
        delete() would load each of them first: django-tenants listens to every deletion.)"""
        table = connection.ops.quote_name(ImportSite._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE job_id = %s", [self.pk])
            return cursor.rowcount


class ImportSite(models.Model):
    """One checked site of a pending import with its cameras, as the forms cleaned them: what
    the commit writes without checking the rows again, and what an opt-out deletes."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="sites")
    rows = ArrayField(models.PositiveIntegerField())
    fields = models.JSONField()
    cameras = models.JSONField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Import {self.job_id}, rows {self.rows[:3]}"
