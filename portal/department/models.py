"""The department's casework: incidents, their canvasses, notices to owners and the footage
they send back."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.registry.models import Participant, Site, StaffMember
from portal.registry.storage import city_path, evidence_storage


class Incident(models.Model):
    """A case the department works, with the place and time window a canvass searches."""

    class Kind(models.TextChoices):
        CRIME = "crime", _("Crime")
        MISSING_PERSON = "missing_person", _("Missing person")
        OTHER = "other", _("Other")

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    case_number = models.CharField(_("case number"), max_length=40)
    # An offence type code from the department's list (Program.offence_types); every audit
    # entry written about the incident carries it with the case number.
    category = models.CharField(_("offense type"), max_length=40)
    address = models.CharField(_("place"), max_length=200, blank=True)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    radius_m = models.PositiveIntegerField(_("search radius (meters)"))
    # What the case is about, for the staff who work it (never sent to owners).
    description = models.TextField(_("description"), max_length=2000, blank=True)
    # A closed case contacts nobody (no reveal, notice or footage request) until reopened.
    closed_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_number} ({self.get_kind_display()})"

    # A missing person may have walked far: the canvass reaches further.
    MISSING_PERSON_RADIUS_FACTOR = 2

    @property
    def skips_retention(self) -> bool:
        """A missing person may be anywhere on any footage: every camera counts."""
        return self.kind == self.Kind.MISSING_PERSON

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def search_radius_m(self) -> int:
        """The radius the canvass and the area notice use."""
        factor = self.MISSING_PERSON_RADIUS_FACTOR if self.skips_retention else 1
        return self.radius_m * factor


class CanvassEntry(models.Model):
    """The state of contact with one site's owner for one incident."""

    class State(models.TextChoices):
        NOT_CONTACTED = "not_contacted", _("Not contacted")
        CONTACTED = "contacted", _("Contacted")
        HAS_FOOTAGE = "has_footage", _("Has footage")
        NO_FOOTAGE = "no_footage", _("No relevant footage")
        DECLINED = "declined", _("Declined")
        UNREACHABLE = "unreachable", _("Unreachable")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="entries")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.NOT_CONTACTED)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "site"], name="one_entry_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.incident} / site {self.site_id}: {self.state}"


class Notification(models.Model):
    """What the department asks owners, by email with an answer link. Two kinds share the
    delivery, the answer and the clips, and differ in whom they address and what they say:
    an area notice ("check your camera") goes to every searchable owner within the incident's
    searched radius; a footage request asks the owner of one site for a copy, for the case."""

    class Kind(models.TextChoices):
        AREA = "area", _("Area notice")
        FOOTAGE_REQUEST = "footage_request", _("Footage request")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.AREA)
    # The one site a footage request asks about (null once its owner opts out).
    site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(_("message"), max_length=600)
    # The area an area notice reached (the incident's searched radius when sent).
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The one-time key of the confirmation page that sent an area notice: the same key sent
    # twice (a double click, a resubmitted form) finds this notice instead of sending another.
    send_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="area", radius_m__isnull=False, site__isnull=True)
                    | models.Q(kind="footage_request", radius_m__isnull=True)
                ),
                name="notification_kind_fields",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} for {self.incident}"

    @property
    def is_footage_request(self) -> bool:
        return self.kind == self.Kind.FOOTAGE_REQUEST


class NotificationRecipient(models.Model):
    """One owner's copy of a notification: claimed by one delivery run, sent at most once,
    answered once."""

    class Answer(models.TextChoices):
        HAS_FOOTAGE = "has_footage", _("I have footage")
        NOTHING = "nothing", _("Nothing relevant")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="recipients"
    )
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    # Set, and committed, before the email goes out: no run sends a claimed copy again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Which claim took the copy (one token per claiming statement, several copies each): a run
    # cut off by the database releases only copies of its own claim (tasks.copies_settle).
    claim = models.UUIDField(null=True, blank=True)
    # Set once the mail server accepted the email. Claimed but never sent means the run
    # stopped in between (delivery unknown): the incident page counts these.
    sent_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=12, choices=Answer.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # An owner never gets the same notification twice, however many sites they have.
            models.UniqueConstraint(
                fields=["notification", "participant"], name="one_copy_per_owner"
            )
        ]
        indexes = [
            # The next copies to claim (tasks.CLAIM_NEXT) in one index scan: without it each
            # claim read and sorted every copy of the notification (5,000 copies: 1.7 ms each).
            models.Index(
                fields=["notification", "id"],
                name="recipient_next_copy",
                condition=models.Q(claimed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification} to participant {self.participant_id}"


def clip_path(clip: FootageClip, extension: str) -> str:
    """Where a clip is stored: under its city's prefix (ids repeat from city to city), named by
    its digest and the extension of its sniffed type, never by the name the uploader gave."""
    return city_path("footage", str(clip.incident_id), f"{clip.sha256}.{extension}")


class FootageClip(models.Model):
    """A clip an owner uploaded, with its SHA-256 taken at upload (chain of custody: this row
    records the upload; every download is an audit entry)."""

    # Footage handed to the department stays with the case: an owner's opt-out removes the link
    # to the owner (recipient), not the evidence.
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="clips")
    recipient = models.ForeignKey(
        NotificationRecipient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clips",
    )
    # Private storage only (portal.registry.storage): read through the audited download view.
    file = models.FileField(storage=evidence_storage, max_length=300)
    # The name on the uploader's computer, for display only (it may carry personal data: an
    # owner's opt-out replaces it, see neutral_name).
    original_name = models.CharField(max_length=200)
    # The type sniffed from the content (portal.department.clip_types), never the client's.
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_from = models.GenericIPAddressField(null=True, blank=True)
    # The first time staff downloaded the clip (services.clip_open): from then on the owner's
    # answer to the request is final (services.notification_answer).
    first_downloaded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    @property
    def extension(self) -> str:
        """The extension of the stored file, which is that of its sniffed type."""
        return self.file.name.rsplit(".", 1)[-1] if "." in self.file.name else "bin"

    @property
    def neutral_name(self) -> str:
        """A name that says nothing about the owner: what is left once they opt out."""
        return f"clip-{self.pk}.{self.extension}"

    @property
    def download_name(self) -> str:
        """The display name with the stored extension: a page disguised as `x.mp4` is saved as
        `.mp4`, and `evil.html` that sniffed as a video downloads as `evil.mp4`."""
        stem = self.original_name.rsplit(".", 1)[0] if "." in self.original_name else ""
        return f"{stem or f'clip-{self.pk}'}.{self.extension}"


class SetupChecklist(models.Model):
    """The first-run checklist of a department provisioned to be set up by its invited
    administrator (portal.department.setup): one row per department schema, written at
    provisioning. Its steps are read from the department's records; this row keeps only what
    records cannot say: how the portal looked when provisioned, an import declared not needed,
    and the list hidden once complete, each with who and when."""

    # One row per schema: the department's checklist.
    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY)
    started_at = models.DateTimeField(auto_now_add=True)
    # The branding fields as provisioning left them (setup.branding_fingerprint): the branding
    # step is done once the department's portal no longer looks like that.
    branding_at_start = models.JSONField(default=dict)
    import_waived_at = models.DateTimeField(null=True, blank=True)
    import_waived_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="setup_checklist_only_one")
        ]

    def __str__(self) -> str:
        return f"Setup checklist started {self.started_at:%Y-%m-%d}"
