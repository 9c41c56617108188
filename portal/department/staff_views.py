"""The department's staff accounts: the list with pending invitations, inviting, resending
and revoking an invitation, changing a role, deactivating and reactivating an account. Every
change goes through portal.department.services, which checks the guards and records it."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.department import services
from portal.department.forms import StaffInviteForm, StaffRoleForm
from portal.department.views import (
    ACCOUNTS,
    ADMINISTER,
    StaffRequest,
    _actor,
    _errors,
    staff_required,
)
from portal.registry.models import ASSIGNABLE_ROLES, StaffMember

# Staff accounts on one page of the list.
STAFF_PAGE_SIZE = 50


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def staff(request: StaffRequest) -> HttpResponse:
    if request.method == "POST" and not request.staff.can(ACCOUNTS):
        raise PermissionDenied
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_invite(actor=_actor(request), **form.cleaned_data)
        except services.AlreadyStaff:
            form.add_error("email", _("This email already has an account in this department."))
        else:
            messages.success(
                request,
                _("%(email)s is invited; they choose a password from the emailed link.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("department:staff")
    members = (
        StaffMember.objects.exclude(role=StaffMember.Role.SUPPORT)
        .select_related("user")
        .order_by("-user__is_active", "user__email", "pk")
    )
    page = Paginator(members, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "department/staff.html",
        {"form": form, "page": page, "roles": ASSIGNABLE_ROLES},
        status=400 if request.method == "POST" else 200,
    )


def _staff_change(
    request: StaffRequest, member_id: int, change: Callable[[StaffMember], str]
) -> HttpResponse:
    """Apply one change to one of this department's staff accounts (an id from another city,
    or a vendor support identity, is not found) and answer with the staff page and what
    happened: the change returns its message, or is refused with one."""
    member = get_object_or_404(
        StaffMember.objects.exclude(role=StaffMember.Role.SUPPORT).select_related("user"),
        pk=member_id,
    )
    try:
        done = change(member)
    except services.StaffChangeRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("department:staff")


@require_POST
@staff_required(ACCOUNTS)
def staff_role(request: StaffRequest, member_id: int) -> HttpResponse:
    form = StaffRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("department:staff")

    def change(member: StaffMember) -> str:
        changed = services.staff_role_set(
            actor=_actor(request), member=member, role=form.cleaned_data["role"]
        )
        return _("%(email)s is now %(role)s.") % {
            "email": changed.user.email,
            "role": changed.get_role_display(),
        }

    return _staff_change(request, member_id, change)


@require_POST
@staff_required(ACCOUNTS)
def staff_deactivate(request: StaffRequest, member_id: int) -> HttpResponse:
    def change(member: StaffMember) -> str:
        changed = services.staff_deactivate(actor=_actor(request), member=member)
        return _(
            "The account of %(email)s is deactivated: they are signed out and cannot sign in."
        ) % {"email": changed.user.email}

    return _staff_change(request, member_id, change)


@require_POST
@staff_required(ACCOUNTS)
def staff_reactivate(request: StaffRequest, member_id: int) -> HttpResponse:
    def change(member: StaffMember) -> str:
        changed = services.staff_reactivate(actor=_actor(request), member=member)
        return _("The account of %(email)s is active again.") % {"email": changed.user.email}

    return _staff_change(request, member_id, change)


@require_POST
@staff_required(ACCOUNTS)
def staff_resend(request: StaffRequest, member_id: int) -> HttpResponse:
    """Email a pending invitee a new link (at most once per services.INVITATION_RESEND_AFTER)."""

    def change(member: StaffMember) -> str:
        changed = services.staff_invitation_resend(
            actor=_actor(request), member=member, department=request.tenant
        )
        return _("The invitation went to %(email)s again.") % {"email": changed.user.email}

    return _staff_change(request, member_id, change)


@require_POST
@staff_required(ACCOUNTS)
def staff_revoke(request: StaffRequest, member_id: int) -> HttpResponse:
    """Withdraw an invitation nobody accepted: its link stops working."""

    def change(member: StaffMember) -> str:
        email = services.staff_invitation_revoke(actor=_actor(request), member=member)
        return _("The invitation to %(email)s is revoked: its link no longer works.") % {
            "email": email
        }

    return _staff_change(request, member_id, change)
