"""Hooks the registry core offers the layers above it, which it must not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by participant_opt_out inside its transaction, before the owner's rows go, with
# `participant`: the layers above remove what they hold that names the owner (the department
# console: the names of the clips they sent, the clips themselves stay with the case).
participant_opting_out = Signal()
