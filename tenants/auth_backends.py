"""The authentication backends (Django's and allauth's), with the one read every signed-in
request makes, the user by key, kept compiled (tenants.compiled): the ORM built and compiled it
on every request, for more CPU than the database spends answering it (0.42 against 0.19 ms of
CPU a staff request, measured in one process). Signing in, permissions and everything else
are the libraries' own.

Sessions name the backend that signed their user in: one signed in before these backends took
the libraries' places names the library's, which the session store reads as this module's
(tenants.session_engine, RENAMED_BACKENDS), so nobody is signed out by the change."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthAuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import User

from tenants.compiled import KeptInstance

MODEL_BACKEND = "tenants.auth_backends.ModelBackend"
ALLAUTH_BACKEND = "tenants.auth_backends.AuthenticationBackend"


# The user of a key, as ModelBackend.get_user reads it (its default manager's get(pk=...)).
USERS: KeptInstance[User] = KeptInstance(get_user_model)


class ModelBackend(DjangoModelBackend):
    """Django's ModelBackend, get_user() from the kept read."""

    def get_user(self, user_id: Any) -> Any:
        user = USERS.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class AuthenticationBackend(ModelBackend, AllauthAuthenticationBackend):
    """allauth's AuthenticationBackend (its authenticate()), get_user() from the kept read."""
