"""Hooks the registry core offers the layers above it, which it must not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by participant_opt_out inside its transaction, before the owner's rows go, with
# `participant`: the layers above remove what they hold that names the owner (the department
# console: the names of the clips they sent, the clips themselves stay with the case; live
# view: the grants on the owner's cameras end, recorded before the cameras are deleted).
participant_opting_out = Signal()

# Sent by registrations_verify inside the participant's transaction when their registration
# lapses (the yearly confirmation went unanswered) and before a lapsed one is purged, with
# `participant`: what staff may reach through the owner's cameras stops (live view's grants).
participant_lapsing = Signal()

# Sent by site_integration_set inside its transaction, after the change, with `site` and
# `integrated` (bool): a site returned to registered (subscription ended, opted out) shares
# nothing live any more.
site_integration_changed = Signal()


class StaffAccess:
    """What happened to a staff member's access (the `why` of staff_access_changed)."""

    ROLE_CHANGED = "role_changed"  # their role changed: they may have lost capabilities
    DEACTIVATED = "deactivated"  # their account was deactivated
    SIGNED_OUT = "signed_out"  # their session ended without a sign-out (the idle limit)


# Sent by the department console, inside the change's transaction, with `member` (the
# StaffMember, already changed) and `why` (a StaffAccess value): what the member held by their
# access and no longer may (live view's open grants) ends.
staff_access_changed = Signal()

# Sent by the scheduled audit-chain check (tasks.audit_verify) after each run, broken or not,
# with `verdict` (audit_chain.Verdict), `checked_at` and `last_entry_id` (the newest entry when
# the check began, or None): the transparency page publishes it, council reports reuse it
# instead of walking the chain again.
audit_chain_checked = Signal()
