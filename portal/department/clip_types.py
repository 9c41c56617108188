"""What an owner may upload as footage, recognised from the file's own bytes: never from its
name or from the Content-Type the browser sent, both of which the uploader chooses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Written here rather than taken from a generic detector: seven formats, each with a precise
# test, and stricter than a magic number (an MP4's boxes must run to the end of the file, so an
# HTML page behind a forged "ftyp" box is refused) and without a dependency.


@dataclass(frozen=True)
class ClipType:
    """A recognised format: the type and extension the file is stored and served under."""

    content_type: str
    extension: str


MP4 = ClipType("video/mp4", "mp4")
MOV = ClipType("video/quicktime", "mov")
WEBM = ClipType("video/webm", "webm")
MKV = ClipType("video/x-matroska", "mkv")
AVI = ClipType("video/x-msvideo", "avi")
JPEG = ClipType("image/jpeg", "jpg")
PNG = ClipType("image/png", "png")

# Markup that a browser, a viewer or a mail client could run or render, looked for in the part
# of a file that browsers sniff: nothing that starts like a web page or a drawing is footage.
MARKUP = re.compile(rb"<(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml-styl)", re.I)
SNIFFED_BYTES = 4096

# ISO base media (MP4, MOV): a chain of boxes, each a 32-bit size and a four-letter type.
BOX_TYPE = re.compile(rb"[A-Za-z0-9 ]{4}")


TYPE_REFUSED = _(
    "Only video (MP4, MOV, WebM, MKV, AVI) and images (JPEG, PNG) can be uploaded; this file "
    "is none of them."
)
MARKUP_REFUSED = _(
    "This file holds a web page, a script or a drawing (HTML, SVG), not footage; it cannot be "
    "uploaded."
)


class ClipRefused(ValueError):
    """A file an answer link does not take; the message tells the owner why, in their language."""

    def __init__(self, message: str | Promise) -> None:
        super().__init__(message)
        self.message = message


def clip_type_of(file: IO[bytes], size: int) -> ClipType:
    """The format of an uploaded file, read from its content. Raises ClipRefused for anything
    an owner may not send, web pages, scripts and drawings in disguise first. Leaves the file
    at its start."""
    found = _sniff(file, size)
    if found is None:
        raise ClipRefused(TYPE_REFUSED)
    return found


def _sniff(file: IO[bytes], size: int) -> ClipType | None:
    try:
        file.seek(0)
        head = file.read(SNIFFED_BYTES)
        if MARKUP.search(head):
            raise ClipRefused(MARKUP_REFUSED)
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return PNG
        if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
            # The RIFF size covers the whole file: a forged header with a page behind it fails.
            return AVI if int.from_bytes(head[4:8], "little") + 8 == size else None
        if head[:4] == b"\x1a\x45\xdf\xa3":
            return _matroska(head)
        if head[4:8] == b"ftyp":
            return _iso_media(file, size)
        return None
    finally:
        file.seek(0)


def _matroska(head: bytes) -> ClipType | None:
    """WebM and Matroska share the EBML header; its DocType element tells them apart."""
    if b"\x42\x82\x84webm" in head[:64]:
        return WEBM
    if b"\x42\x82\x88matroska" in head[:64]:
        return MKV
    return None


QUICKTIME_BRANDS = {b"qt  "}


def _iso_media(file: IO[bytes], size: int) -> ClipType | None:
    """Walk the top-level boxes: each must be well formed and the last must end the file."""
    file.seek(0)
    first = file.read(12)
    brand = first[8:12]
    offset = 0
    while offset < size:
        file.seek(offset)
        header = file.read(16)
        if len(header) < 8 or not BOX_TYPE.fullmatch(header[4:8]):
            return None
        box_size = int.from_bytes(header[:4], "big")
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return None
            box_size = int.from_bytes(header[8:16], "big")
            if box_size < 16:
                return None
        elif box_size == 0:  # the last box runs to the end of the file
            box_size = size - offset
        if box_size < 8 or offset + box_size > size:
            return None
        offset += box_size
    return MOV if brand in QUICKTIME_BRANDS else MP4
