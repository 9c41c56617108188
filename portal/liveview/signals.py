"""What ends a staff member's grants from outside live view: signing out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out

from portal.liveview.models import Grant
from portal.liveview.services import grants_end


def grants_end_at_sign_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A staff member who signs out stops watching: their open grants end (SIGNED_OUT)."""
    staff = getattr(user, "staff", None) if user is not None else None
    if staff is None:
        return
    grants_end(grants=Grant.objects.filter(staff=staff), why=Grant.Ended.SIGNED_OUT)


def connect() -> None:
    user_logged_out.connect(grants_end_at_sign_out, dispatch_uid="liveview.grants_end_at_sign_out")
