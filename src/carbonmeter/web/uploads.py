"""The one rule for uploaded documents (archive files, calibration certificates, admin file fields,
workbooks): an allowed type, checked by the file's name *and* its first bytes, and a size limit
(``settings.CARBONMETER_UPLOAD_MAX_BYTES``). Readings files have their own formats and limits
(``carbonmeter.web.readings.forms``).

Uploaded files are downloaded by other people, so a page or script renamed ``.pdf`` must not pass: the
content has to look like what the name says (PDF header, ZIP container for OOXML/OFD, OLE for old Office
files, image signatures, text without NUL bytes and without HTML markup for ``.csv``/``.txt``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

_ZIP: Final = (b"PK\x03\x04", b"PK\x05\x06")
_OLE: Final = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
#: Extension → the signatures its content may start with (``None``: text, checked by :func:`_is_text`).
SIGNATURES: Final[dict[str, tuple[bytes, ...] | None]] = {
    "pdf": (b"%PDF-",),
    "ofd": _ZIP,
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "doc": _OLE,
    "xls": _OLE,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "zip": _ZIP,
    "csv": None,
    "txt": None,
}
#: Documents of an archive or a certificate: scans, office files, pictures of a nameplate.
DOCUMENTS: Final = tuple(SIGNATURES)
_HEAD = 8192
_MARKUP: Final = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def max_bytes() -> int:
    return int(settings.CARBONMETER_UPLOAD_MAX_BYTES)


def _head(file: Any) -> bytes:
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = bytes(file.read(_HEAD))
    file.seek(position)
    return head


def _is_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with a byte-order mark
    if b"\x00" in head:
        return False
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return not lowered.startswith(_MARKUP)


@deconstructible
class UploadValidator:
    """Refuses a file whose extension is not in ``extensions``, whose first bytes do not match it, or
    that is larger than ``CARBONMETER_UPLOAD_MAX_BYTES``; usable on model and form fields alike."""

    def __init__(self, extensions: Iterable[str] = DOCUMENTS) -> None:
        self.extensions = tuple(e.lower() for e in extensions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UploadValidator) and other.extensions == self.extensions

    def __hash__(self) -> int:
        return hash(self.extensions)

    def __call__(self, file: Any) -> None:
        if getattr(file, "_committed", False):
            return  # a file stored earlier (a row saved again): it was checked when it came in
        name = str(getattr(file, "name", "") or "")
        extension = PurePath(name).suffix.lower().removeprefix(".")
        allowed = "、".join(self.extensions)
        if extension not in self.extensions:
            raise ValidationError(
                _("不支持的文件类型 %(extension)s；可上传：%(allowed)s。"),
                code="upload_type",
                params={"extension": extension or "—", "allowed": allowed},
            )
        size = getattr(file, "size", None)
        if size is not None and size > max_bytes():
            raise ValidationError(
                _("文件过大（%(size)s），上限为 %(limit)s。"),
                code="upload_size",
                params={"size": filesizeformat(size), "limit": filesizeformat(max_bytes())},
            )
        head = _head(file)
        signatures = SIGNATURES.get(extension)
        fits = _is_text(head) if signatures is None else head.startswith(signatures)
        if not fits:
            raise ValidationError(
                _("文件内容不是 %(extension)s 文件（与文件名不符）。"),
                code="upload_content",
                params={"extension": extension},
            )
