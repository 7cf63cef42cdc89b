"""Result files the mock serves at /_relaykit/files/<name>: real, decodable bytes.

PNG images are drawn here (a gradient, sized by the name's ``-WxH`` suffix or 512x512). Audio
and video come from the small files in mockserver/assets/ (made by bench/make_assets.sh): half
a second of silence per audio format, one second of 64x64 video. The kind is the extension.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from pathlib import Path

FILES_PREFIX = "/_relaykit/files/"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
_SIZE = re.compile(r"-(\d{1,4})x(\d{1,4})\.")
MAX_SIDE = 2048
IMAGE_KINDS = ("png", "jpg", "jpeg", "webp")

MEDIA: dict[str, tuple[str, str]] = {
    "mp3": ("silence.mp3", "audio/mpeg"),
    "opus": ("silence.opus", "audio/ogg"),
    "ogg": ("silence.opus", "audio/ogg"),
    "oga": ("silence.opus", "audio/ogg"),
    "aac": ("silence.aac", "audio/aac"),
    "flac": ("silence.flac", "audio/flac"),
    "wav": ("silence.wav", "audio/wav"),
    "pcm": ("silence.pcm", "audio/pcm"),
    "mp4": ("clip.mp4", "video/mp4"),
    "webm": ("clip.webm", "video/webm"),
}
"""Extension -> (asset file, content type) for the kinds served from mockserver/assets/."""

SERVED_KINDS = (*IMAGE_KINDS, "svg", *MEDIA)
"""Every extension /_relaykit/files/ serves; other kinds keep their documented URL."""


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of the given size."""
    reds = bytes(x * 255 // max(width - 1, 1) for x in range(width))
    rows = bytearray()
    for y in range(height):
        shade = y * 255 // max(height - 1, 1)
        row = bytearray(3 * width)
        row[0::3], row[1::3], row[2::3] = reds, bytes([shade]) * width, b"\x80" * width
        rows += b"\x00" + row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(bytes(rows))),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def svg(width: int, height: int) -> bytes:
    """A small valid SVG document of this size (vector results)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#1e3c78"/>'
        f'<circle cx="{width // 2}" cy="{height // 2}" r="{min(width, height) // 3}" '
        f'fill="#f0b428"/></svg>'
    ).encode()


def mp3(seconds: float = 1.0) -> bytes:
    """Silent MPEG-1 Layer III at 128 kbit/s, 44.1 kHz: 417-byte frames, zeroed side info."""
    frame = b"\xff\xfb\x90\x44" + bytes(413)
    return frame * max(1, int(seconds * 44100 / 1152))


@functools.cache
def asset(kind: str) -> tuple[bytes, str]:
    """The bytes and content type of the shipped media file for an extension in MEDIA."""
    name, media_type = MEDIA[kind]
    return (ASSETS_DIR / name).read_bytes(), media_type


def render_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type for a file name, or None when the kind is not served."""
    lower = name.lower()
    kind = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if kind in IMAGE_KINDS:
        m = _SIZE.search(lower)
        w, h = (int(m.group(1)), int(m.group(2))) if m else (512, 512)
        return png(min(max(w, 1), MAX_SIDE), min(max(h, 1), MAX_SIDE)), "image/png"
    if kind == "svg":
        m = _SIZE.search(lower)
        w, h = (int(m.group(1)), int(m.group(2))) if m else (512, 512)
        return svg(min(max(w, 1), MAX_SIDE), min(max(h, 1), MAX_SIDE)), "image/svg+xml"
    if kind in MEDIA:
        return asset(kind)
    return None
