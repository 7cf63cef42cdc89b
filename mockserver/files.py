"""Result files the mock serves at /_relaykit/files/<name>: real, decodable bytes.

Images are drawn at the size the name's ``-WxH`` suffix asks (or 512x512), in the format the
extension names (a ``.jpg`` is JPEG bytes served as image/jpeg); audio and video are the sample
files of contracts/media.py.
"""

from __future__ import annotations

import re

from contracts.media import IMAGE_TYPES, MEDIA, asset, image, svg

FILES_PREFIX = "/_relaykit/files/"
_SIZE = re.compile(r"-(\d{1,4})x(\d{1,4})\.")
MAX_SIDE = 2048
IMAGE_KINDS = tuple(IMAGE_TYPES)

SERVED_KINDS = (*IMAGE_KINDS, "svg", *MEDIA)
"""Every extension /_relaykit/files/ serves; other kinds keep their documented URL."""


def render_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type for a file name, or None when the kind is not served."""
    lower = name.lower()
    kind = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if kind in IMAGE_KINDS:
        m = _SIZE.search(lower)
        w, h = (int(m.group(1)), int(m.group(2))) if m else (512, 512)
        return image(kind, min(max(w, 1), MAX_SIDE), min(max(h, 1), MAX_SIDE))
    if kind == "svg":
        m = _SIZE.search(lower)
        w, h = (int(m.group(1)), int(m.group(2))) if m else (512, 512)
        return svg(min(max(w, 1), MAX_SIDE), min(max(h, 1), MAX_SIDE)), "image/svg+xml"
    if kind in MEDIA:
        return asset(kind)
    return None
