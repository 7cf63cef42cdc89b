"""Sample media: the bytes behind a contract's ``<binary image/png>`` placeholders.

The suites upload these where an operation takes a file, and the mock serves them as results.
PNG, JPEG, WEBP and SVG images are drawn here (JPEG as a baseline image of flat 8x8 blocks,
WEBP lossless in one colour: both small, real, decodable by any image library); audio and video
are the small files in contracts/media/ (made by bench/make_assets.sh): half a second of
silence per audio format, one second of 64x64 video.
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


def _rgb(x: int, y: int, width: int, height: int) -> tuple[int, int, int]:
    """The colour of the PNG's gradient at (x, y): red across, green down, blue half."""
    return x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), 0x80


def jpeg(width: int, height: int) -> bytes:
    """A valid baseline JPEG (JFIF, YCbCr 4:4:4) of the given size: the PNG's gradient drawn
    in flat 8x8 blocks, so every block is one DC coefficient and an end-of-block code."""
    blocks_x, blocks_y = -(-width // 8), -(-height // 8)
    bits = _MsbBits()
    previous = [0, 0, 0]
    for by in range(blocks_y):
        for bx in range(blocks_x):
            r, g, b = _rgb(min(bx * 8 + 4, width - 1), min(by * 8 + 4, height - 1), width, height)
            ycc = (
                0.299 * r + 0.587 * g + 0.114 * b,
                128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
            )
            for c, value in enumerate(ycc):
                dc = round(value - 128)  # DC = 8 * (value - 128), quantised by 8
                diff, previous[c] = dc - previous[c], dc
                size = abs(diff).bit_length()
                code, length = (_DC_LUMA if c == 0 else _DC_CHROMA)[size]
                bits.put(code, length)
                if size:
                    bits.put(diff if diff > 0 else diff + (1 << size) - 1, size)
                bits.put(0, 1)  # end of block: the AC table's one code, "0"
    scan = bits.flush().replace(b"\xff", b"\xff\x00")

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload

    def table(kind: int, counts: list[int], symbols: range | list[int]) -> bytes:
        return bytes([kind, *counts, *symbols])

    return b"".join(
        (
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, bytes([0]) + bytes([8] * 64)),
            segment(
                0xC0,
                struct.pack(">BHHB", 8, height, width, 3)
                + bytes([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]),
            ),
            segment(
                0xC4,
                table(0x00, _DC_LUMA_COUNTS, range(12))
                + table(0x01, _DC_CHROMA_COUNTS, range(12))
                + table(0x10, [1] + [0] * 15, [0]),
            ),
            segment(0xDA, bytes([3, 1, 0x00, 2, 0x10, 3, 0x10, 0, 63, 0])),
            scan,
            b"\xff\xd9",
        )
    )


def _huffman(counts: list[int]) -> list[tuple[int, int]]:
    """The canonical codes (code, length) of a JPEG table's symbols 0, 1, ... in order."""
    codes, code = [], 0
    for length, count in enumerate(counts, 1):
        for _ in range(count):
            codes.append((code, length))
            code += 1
        code <<= 1
    return codes


_DC_LUMA_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
_DC_CHROMA_COUNTS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
_DC_LUMA = _huffman(_DC_LUMA_COUNTS)
_DC_CHROMA = _huffman(_DC_CHROMA_COUNTS)
"""The DC tables of the JPEG standard (Annex K.3), by difference size 0-11."""


class _MsbBits:
    """Bits written most significant first (JPEG's entropy-coded data), padded with ones."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        self.acc = (self.acc << length) | (value & ((1 << length) - 1))
        self.n += length
        while self.n >= 8:
            self.n -= 8
            self.out.append((self.acc >> self.n) & 0xFF)
        self.acc &= (1 << self.n) - 1

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)
        return bytes(self.out)


def webp(width: int, height: int) -> bytes:
    """A valid lossless WEBP (VP8L) of the given size (at most 16384 a side), in one colour:
    each of its five prefix codes has a single symbol, so no pixel costs a bit."""
    r, g, b = _rgb(width // 2, height // 2, width, height)
    value, count = 0x2F, 8  # the VP8L signature, then fields least significant bit first
    for field, length in (
        (width - 1, 14),
        (height - 1, 14),
        (0, 1),  # alpha not used
        (0, 3),  # version 0
        (0, 1),  # no transform
        (0, 1),  # no colour cache
        (0, 1),  # no meta prefix codes
        *((1 | 0 << 1 | 1 << 2 | symbol << 3, 11) for symbol in (g, r, b, 255, 0)),
    ):  # each code: simple (1), one symbol (0), eight-bit symbol (1), the symbol
        value |= field << count
        count += length
    data = value.to_bytes((count + 7) // 8, "little")
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


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


IMAGE_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}
"""Raster kinds (extension or output_format) -> content type; ``image`` draws each."""


@functools.lru_cache(maxsize=32)
def image(kind: str, width: int, height: int) -> tuple[bytes, str]:
    """The bytes and content type of a raster image of this kind (png, jpg, jpeg, webp)."""
    draw = {"png": png, "jpg": jpeg, "jpeg": jpeg, "webp": webp}[kind]
    return draw(width, height), IMAGE_TYPES[kind]


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
