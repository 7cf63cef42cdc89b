"""Result files the mock serves at /_relaykit/files/<name>: real, decodable bytes.

PNG images are drawn here (a gradient, sized by the name's ``-WxH`` suffix or 512x512); MP3 is a
run of silent MPEG-1 Layer III frames. Other kinds are not served yet.
"""

from __future__ import annotations

import re
import struct
import zlib

FILES_PREFIX = "/_relaykit/files/"
_SIZE = re.compile(r"-(\d{1,4})x(\d{1,4})\.")
MAX_SIDE = 2048
SERVED_KINDS = ("png", "jpg", "jpeg", "webp", "mp3")


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


def mp3(seconds: float = 1.0) -> bytes:
    """Silent MPEG-1 Layer III at 128 kbit/s, 44.1 kHz: 417-byte frames, zeroed side info."""
    frame = b"\xff\xfb\x90\x44" + bytes(413)
    return frame * max(1, int(seconds * 44100 / 1152))


def render_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type for a file name, or None when the kind is not served."""
    lower = name.lower()
    if lower.endswith((".png", ".jpg", ".jpeg", ".webp")):
        m = _SIZE.search(lower)
        w, h = (int(m.group(1)), int(m.group(2))) if m else (512, 512)
        return png(min(max(w, 1), MAX_SIDE), min(max(h, 1), MAX_SIDE)), "image/png"
    if lower.endswith(".mp3"):
        return mp3(), "audio/mpeg"
    return None
