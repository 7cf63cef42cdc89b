"""Sample media: the bytes behind a contract's ``<binary image/png>`` placeholders.

The suites upload these where an operation takes a file, and the mock serves them as results.
PNG and SVG images are drawn here; audio and video are the small files in contracts/media/
(made by bench/make_assets.sh): half a second of silence per audio format, one second of 64x64
video.
"""

from __future__ import annotations

import functools
import struct
import zlib
from pathlib import Path

MEDIA_DIR = Path(__file__).resolve().parent / "media"

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
"""Extension -> (asset file, content type) for the kinds served from contracts/media/."""


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
    return (MEDIA_DIR / name).read_bytes(), media_type


_BY_TYPE = {media_type: kind for kind, (_, media_type) in reversed(MEDIA.items())}


def sample(media_type: str) -> tuple[bytes, str, str]:
    """(bytes, file name, content type) of a sample file for a placeholder's media type."""
    media_type = media_type.lower()
    if media_type.startswith("image/svg"):
        return svg(64, 64), "sample.svg", "image/svg+xml"
    if media_type.startswith("image/") or media_type in ("", "application/octet-stream"):
        return png(64, 64), "sample.png", "image/png"
    kind = _BY_TYPE.get(media_type)
    if kind is None:
        kind = "mp4" if media_type.startswith("video/") else "mp3"
    data, content_type = asset(kind)
    return data, f"sample.{kind}", content_type
