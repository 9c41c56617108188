"""Demo staff for each demo city: every role, each with an authenticator already set up."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP

from portal.registry.models import StaffMember
from tenants.demo import DEMO_TOTP_SECRET
from tenants.models import Department
from tenants.services import staff_account_ensure

ROLES = (
    StaffMember.Role.ADMINISTRATOR,
    StaffMember.Role.INVESTIGATOR,
    StaffMember.Role.OPERATOR,
    StaffMember.Role.ANALYST,
)


def staff_seed(department: Department) -> list[str]:
    password = f"demo-{department.schema_name}-staff"
    lines = []
    for role in ROLES:
        email = f"{role}@{department.schema_name}.example.org"
        if role == StaffMember.Role.ADMINISTRATOR:
            email = f"admin@{department.schema_name}.example.org"
        user, _created = staff_account_ensure(email=email, password=password)
        StaffMember.objects.get_or_create(user=user, defaults={"role": role})
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
        if role != StaffMember.Role.ADMINISTRATOR:
            lines.append(f"{role}: {email} / {password}")
    lines.append(
        f"staff one-time codes: authenticator app with the secret {DEMO_TOTP_SECRET} "
        "(or: oathtool --totp -b " + DEMO_TOTP_SECRET + ")"
    )
    return lines
