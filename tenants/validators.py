"""Checks on uploaded branding files, shared by the model and the provisioning service."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def validate_logo(upload: File) -> None:
    """Refuse anything but a PNG, JPEG or WebP image within the size limits."""
    if upload.size is not None and upload.size > settings.LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is %(size)s; the limit is %(limit)s."),
            params={
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.LOGO_MAX_BYTES),
            },
            code="logo_too_large",
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            _("The logo must be a PNG, JPEG or WebP image; this file is not one."),
            code="logo_not_image",
        ) from error
    finally:
        upload.seek(position)
    if image_format not in LOGO_FORMATS:
        raise ValidationError(
            _("The logo must be a PNG, JPEG or WebP image, not %(format)s."),
            params={"format": image_format},
            code="logo_format",
        )
    if max(width, height) > settings.LOGO_MAX_PIXELS:
        raise ValidationError(
            _("The logo is %(width)s by %(height)s pixels; at most %(limit)s on each side."),
            params={"width": width, "height": height, "limit": settings.LOGO_MAX_PIXELS},
            code="logo_dimensions",
        )
