"""The media response invariants: images, embeddings, the model list, speech and transcripts.

Each rule is (observed, validators) -> (outcome, message), with the outcome conventions of
``suites.invariant_rules`` (whose helpers it shares). Image sizes are read from the images' own
headers (PNG, JPEG, WEBP, GIF, SVG); speech formats from their content type and magic bytes.
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Any

from contracts.validation import Validators
from suites import bounded
from suites.invariant_rules import (
    FAIL,
    INCONCLUSIVE,
    MAGIC,
    PASS,
    SKIP,
    Result,
    audio_matches,
    decode_base64,
    field_of,
    objects_in,
    requested_count,
    whole,
)

if TYPE_CHECKING:
    from suites.invariants import Fetch, Observed


# --- images ---------------------------------------------------------------------------------

_WXH = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.S)
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, WEBP, GIF or SVG header; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:3] == b"\xff\xd8\xff":
        return _jpeg(data)
    return _svg(data)


def _webp(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return int(w) & 0x3FFF, int(h) & 0x3FFF
    if kind == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
            i += 1 if marker == 0xFF else 2  # fill byte, or a marker without a length
            continue
        if marker in _SOF and i + 9 <= len(data):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(w), int(h)
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def _svg(data: bytes) -> tuple[int, int] | None:
    tag = _SVG_TAG.search(data[:4096])
    if tag is None:
        return None
    attrs = dict(re.findall(rb'([\w:-]+)\s*=\s*["\']([^"\']*)["\']', tag.group(0)))
    sides = [
        re.fullmatch(rb"\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*", attrs.get(k, b""))
        for k in (b"width", b"height")
    ]
    if sides[0] and sides[1]:
        return round(float(sides[0].group(1))), round(float(sides[1].group(1)))
    box = re.split(rb"[\s,]+", attrs.get(b"viewBox", b"").strip())
    try:
        return (round(float(box[2])), round(float(box[3]))) if len(box) == 4 else None
    except ValueError:
        return None


def _measure(item: dict[str, Any], fetch: Fetch | None) -> tuple[tuple[int, int] | None, str]:
    """An image's size from its b64_json or the bytes its URL serves; else why not."""
    url = item.get("url")
    if isinstance(item.get("b64_json"), str) or (isinstance(url, str) and url.startswith("data:")):
        data = decode_base64(item.get("b64_json") or url)
        if data is None:
            return None, "its base64 does not decode"
    elif not isinstance(url, str):
        return None, "it has neither b64_json nor url"
    elif fetch is None:
        return None, "it is a URL and this run may not fetch"
    else:
        status, _, data = fetch(url)
        if status != 200:
            return None, f"its URL answered {status or 'nothing (transport error)'}"
    size = image_dimensions(data)
    return size, "" if size else f"its bytes are no PNG/JPEG/WEBP/GIF/SVG ({data[:8]!r})"


def image_count_matches_n(obs: Observed, v: Validators) -> Result:
    """len(data) == n (SiliconFlow: batch_size), 1 when absent."""
    n, asked = requested_count(obs.request, "n", "batch_size")
    if n is None:
        return SKIP, f"not exercised: {asked} is not a whole number"
    items = field_of(obs.body, "data")
    if not isinstance(items, list):
        return FAIL, f"no data array; {asked} asks for {n} image(s)"
    if len(items) != n:
        return FAIL, f"{len(items)} image(s); {asked} asks for {n}"
    return PASS, f"{n} image(s), as {asked} asks"


def image_size_matches(obs: Observed, v: Validators) -> Result:
    """Each image's real size (from its header) is the size asked ("WxH"); auto: SKIP."""
    name = next((k for k in ("size", "image_size") if obs.request.get(k) is not None), None)
    if name is None:
        return SKIP, "not exercised: the request sets no size"
    asked = obs.request[name]
    m = _WXH.match(asked) if isinstance(asked, str) else None
    if m is None:
        return SKIP, f"not exercised: {name} {asked!r} is not WxH"
    want = (int(m.group(1)), int(m.group(2)))
    items = objects_in(field_of(obs.body, "data"))
    if not items:
        return INCONCLUSIVE, "no images to measure"
    unmeasured = []
    for i, item in enumerate(items):
        got, why = _measure(item, obs.fetch)
        if got is None:
            unmeasured.append(f"image {i}: {why}")
        elif got != want:
            return FAIL, f"image {i} is {got[0]}x{got[1]}; {name} asks for {want[0]}x{want[1]}"
    if unmeasured:
        return INCONCLUSIVE, f"cannot measure {unmeasured[0]}"
    return PASS, f"{len(items)} image(s) of {want[0]}x{want[1]}, read from their headers"


# --- embeddings and models ------------------------------------------------------------------


def embedding_count_matches_input(obs: Observed, v: Validators) -> Result:
    """One embedding per input (a string or a token array is one input), indices 0..n-1."""
    value = obs.request.get("input")
    single = isinstance(value, str) or (
        isinstance(value, list) and bool(value) and all(whole(x) is not None for x in value)
    )
    count = 1 if single else len(value) if isinstance(value, list) else 0
    if not count:
        return SKIP, "not exercised: input is empty or neither a string nor a list"
    items = objects_in(field_of(obs.body, "data"))
    if items is None:
        return FAIL, f"no data array; {count} input(s) ask for {count} embedding(s)"
    if len(items) != count:
        return FAIL, f"{len(items)} embedding(s) for {count} input(s)"
    indices = [i for i in (item.get("index") for item in items) if isinstance(i, int)]
    if len(indices) == count and sorted(indices) != list(range(count)):
        return FAIL, f"indices {sorted(indices)[:6]} do not number the inputs 0..{count - 1}"
    return PASS, f"{count} embedding(s) for {count} input(s)"


def embedding_dimensions(obs: Observed, v: Validators) -> Result:
    """dimensions -> every vector has that many values (floats, or base64 float32)."""
    dims = whole(obs.request.get("dimensions"))
    if dims is None:
        return SKIP, "not exercised: the request sets no dimensions"
    items = objects_in(field_of(obs.body, "data"))
    if not items:
        return INCONCLUSIVE, "no embeddings to measure"
    for i, item in enumerate(items):
        vector = item.get("embedding")
        if isinstance(vector, list):
            length = len(vector)
        elif (raw := decode_base64(vector)) is not None and len(raw) % 4 == 0:
            length = len(raw) // 4
        else:
            return INCONCLUSIVE, f"embedding {i} is neither a list nor base64 float32"
        if length != dims:
            return FAIL, f"embedding {i} has {length} values; dimensions asks for {dims}"
    return PASS, f"{len(items)} embedding(s) of {dims} values"


def model_listed(obs: Observed, v: Validators) -> Result:
    """Every model the profile uses appears in the list (clients fill model pickers from it).

    The list differs per key (relays filter it by the key's group), so only the models this
    run relies on are looked for; with none given, SKIP.
    """
    wanted = list(dict.fromkeys(obs.models))
    if not wanted:
        return SKIP, "not exercised: no models to look for (the profile names none)"
    items = objects_in(field_of(obs.body, "data"))
    if items is None:
        return FAIL, "no data array to look the models up in"
    ids = {item.get("id") for item in items}
    missing = [m for m in wanted if m not in ids]
    if missing:
        return FAIL, f"{len(missing)} of {len(wanted)} model(s) not listed: {', '.join(missing)}"
    return PASS, f"all {len(wanted)} model(s) listed among {len(ids)}"


# --- audio ----------------------------------------------------------------------------------

SPEECH_TYPES = {
    "mp3": ("audio/mpeg", "audio/mp3", "audio/mpeg3"),
    "opus": ("audio/ogg", "audio/opus"),
    "aac": ("audio/aac", "audio/x-aac", "audio/aacp"),
    "flac": ("audio/flac", "audio/x-flac"),
    "wav": ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"),
    "pcm": ("audio/pcm", "audio/l16", "application/octet-stream"),
}
"""Content types a speech answer in each response_format may carry."""


def speech_format_matches(obs: Observed, v: Validators) -> Result:
    """response_format (mp3 by default) -> the content type and the magic bytes match it."""
    fmt = obs.request.get("response_format") or "mp3"
    if fmt not in SPEECH_TYPES:
        return SKIP, f"not exercised: response_format {fmt!r} is none of {', '.join(SPEECH_TYPES)}"
    if obs.content_type not in SPEECH_TYPES[fmt]:
        expected = " or ".join(SPEECH_TYPES[fmt])
        return FAIL, f"{fmt}: content type {obs.content_type or '(none)'}, expected {expected}"
    if not obs.content:
        return FAIL, f"{fmt}: the body is empty"
    if not audio_matches(fmt, obs.content):
        head = obs.content[:4].hex(" ")
        return FAIL, f"{fmt}: the body starts {head}, not {MAGIC[fmt]}"
    return PASS, f"{fmt}: {obs.content_type}, {len(obs.content)} bytes that start as {fmt} does"


TEXT_TYPES = {
    "text": ("text/plain",),
    "srt": ("text/plain", "application/x-subrip", "text/srt"),
    "vtt": ("text/plain", "text/vtt"),
}
_SRT_CUE = re.compile(r"^\d{2,}:\d{2}:\d{2},\d{3} --> \d{2,}:\d{2}:\d{2},\d{3}\b")


def _granularities(request: dict[str, Any]) -> set[str]:
    value = request.get("timestamp_granularities[]", request.get("timestamp_granularities"))
    return {g for g in (value if isinstance(value, list) else [value]) if isinstance(g, str)}


def _verbose(body: dict[str, Any], request: dict[str, Any]) -> Result:
    wanted: dict[str, type | tuple[type, ...]] = {
        "language": str,
        "duration": (int, float),
        "text": str,
    }
    grains = _granularities(request)
    if not grains or "segment" in grains:
        wanted["segments"] = list
    if "word" in grains:
        wanted["words"] = list
    bad = [k for k, kind in wanted.items() if not isinstance(body.get(k), kind)]
    if bad:
        return FAIL, f"verbose_json lacks {', '.join(bad)} (or has the wrong type)"
    return PASS, f"verbose_json with {', '.join(wanted)}"


def transcript_format_matches(obs: Observed, v: Validators) -> Result:
    """json / verbose_json -> JSON with text (verbose: language, duration, segments/words);
    text / srt / vtt -> plain text; srt cues ``HH:MM:SS,mmm -->``; vtt starts WEBVTT."""
    fmt = obs.request.get("response_format") or "json"
    if fmt in ("json", "verbose_json"):
        if obs.content_type != "application/json" or not isinstance(obs.body, dict):
            return FAIL, f"{fmt} asks for a JSON object; got {obs.content_type or '(none)'}"
        if not isinstance(obs.body.get("text"), str):
            return FAIL, f"{fmt}: the JSON has no text string"
        return (
            _verbose(obs.body, obs.request)
            if fmt == "verbose_json"
            else (PASS, "json: an object with text")
        )
    if fmt not in TEXT_TYPES:
        return SKIP, f"not exercised: response_format {fmt!r} is not json/text/srt/vtt"
    if obs.content_type not in TEXT_TYPES[fmt]:
        return FAIL, f"{fmt}: content type {obs.content_type or '(none)'}, expected text/plain"
    try:
        text = obs.content.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return FAIL, f"{fmt}: the body is not UTF-8 text"
    if fmt == "vtt":
        if not text.startswith("WEBVTT"):
            return FAIL, f"vtt: the body starts {text[:16]!r}, not WEBVTT"
        return PASS, f"vtt: WEBVTT and {text.count('-->')} cue(s)"
    if fmt == "text":
        if isinstance(_loads(text), dict):
            return FAIL, "text: the body is a JSON object, not plain text"
        return PASS, f"text: {len(text)} characters of plain text"
    arrows = [line.strip() for line in text.splitlines() if "-->" in line]
    if not text.strip():
        return INCONCLUSIVE, "srt: the body is empty (no speech?)"
    bad = next((a for a in arrows if not _SRT_CUE.match(a)), None)
    if not arrows or bad is not None:
        return FAIL, f"srt: cue {bad!r} is not HH:MM:SS,mmm --> HH:MM:SS,mmm" if bad else (
            "srt: no HH:MM:SS,mmm --> HH:MM:SS,mmm cue"
        )
    return PASS, f"srt: {len(arrows)} cue(s) with comma milliseconds"


def _loads(text: str) -> Any:
    try:
        return bounded.loads(text)
    except ValueError:
        return None
