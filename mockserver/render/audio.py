"""Audio: speech answers real audio bytes; transcriptions and translations answer per format.

``audio.speech`` answers the shipped silent file of the requested ``response_format`` with its
content type (contracts/media.py); ``audio.speech.events`` (``stream_format: sse``) streams the
same bytes in base64 pieces, then the usage. ``audio.transcription`` checks the uploaded
``file`` by its magic bytes, then writes one transcript (the example's text, timed over the
file's duration) as json, text, srt, vtt or verbose_json; ``audio.transcription.events``
(``stream: true``) streams that text in word deltas, then the whole text and the usage.
"""

from __future__ import annotations

import base64
import copy
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from contracts.media import MEDIA, asset
from mockserver import tokens
from mockserver.render.context import (
    Event,
    JsonRenderer,
    NotStreamed,
    Raw,
    RenderContext,
    RenderError,
    StreamRenderer,
)

TEXT = "text/plain; charset=utf-8"
_SENTENCE = re.compile(r"(?<=[.!?。!?])\s+|(?<=[。!?])")
_WORD = re.compile(r"[\w'’-]+")
LANGUAGES = {
    "en": "english",
    "zh": "chinese",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "ja": "japanese",
    "ko": "korean",
    "ru": "russian",
    "it": "italian",
    "pt": "portuguese",
}
"""ISO-639-1 codes to the spelled-out names verbose_json reports (others pass through)."""


class FileError(RenderError):
    """A 400 about the uploaded ``file`` part: missing, or not audio."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message, param="file")


def audio_kind(data: bytes) -> str | None:
    """The container an upload is, by its magic bytes; None when it is not audio we accept."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:3] == b"ID3":
        return "mp3"
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
        return "mp3"  # an MPEG audio frame header (layer bits 00 would be AAC ADTS)
    return None


def wav_seconds(data: bytes) -> float | None:
    """The duration of a RIFF/WAVE file from its fmt and data chunks, or None."""
    if audio_kind(data) != "wav":
        return None
    pos, byte_rate, size = 12, 0, None
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if kind == b"fmt " and length >= 12:
            byte_rate = struct.unpack("<I", data[pos + 16 : pos + 20])[0]
        elif kind == b"data":
            size = min(length, len(data) - pos - 8)
            break
        pos += 8 + length + (length & 1)
    return round(size / byte_rate, 3) if byte_rate and size is not None else None


def _speech_bytes(ctx: RenderContext) -> tuple[bytes, str]:
    fmt = ctx.field("response_format") or "mp3"
    if not isinstance(fmt, str) or fmt not in MEDIA:
        raise RenderError(400, f"Unsupported response_format {fmt!r}.")
    return asset(fmt)


def render_speech(ctx: RenderContext) -> Raw:
    """The audio file in the requested response_format (mp3 by default), with its content type."""
    body, media_type = _speech_bytes(ctx)
    return Raw(body, media_type)


SPEECH_PIECES = 4
"""How many speech.audio.delta events carry the audio."""


def render_speech_events(ctx: RenderContext) -> list[Event]:
    """``stream_format: sse``: the same audio file in base64 pieces that join into it, then
    speech.audio.done with the usage (input: the text's tokens; output: the audio's, 1 per
    ~50 bytes)."""
    body, _ = _speech_bytes(ctx)
    size = -(-len(body) // SPEECH_PIECES)
    pieces = [base64.b64encode(body[i : i + size]).decode() for i in range(0, len(body), size)]
    events = [Event({"type": "speech.audio.delta", "audio": piece}) for piece in pieces]
    used_in = tokens.count(str(ctx.field("input") or "")) + tokens.count(
        str(ctx.field("instructions") or "")
    )
    used_out = max(1, len(body) // 50)
    usage = {"input_tokens": used_in, "output_tokens": used_out, "total_tokens": used_in + used_out}
    return [*events, Event({"type": "speech.audio.done", "usage": usage})]


@dataclass(slots=True)
class Transcript:
    """What the audio 'says': text, language, duration, and timed segments."""

    text: str
    language: str
    duration: float
    segments: list[dict[str, Any]]


def _examples(ctx: RenderContext) -> list[Any]:
    return [e.value for e in ctx.op.response.examples if e.servable and isinstance(e.value, dict)]


def _template(ctx: RenderContext) -> dict[str, Any]:
    """The verbose example of the contract (the first with segments), or an empty one."""
    return next((v for v in _examples(ctx) if v.get("segments")), {})


def _not_audio(ctx: RenderContext) -> Raw:
    """The contract's documented 400 about ``file`` (it names the param), as it is documented."""
    bodies = (e.example for e in ctx.op.errors.documented if e.status == 400)
    documented = next((b for b in bodies if _file_message(b)), None)
    if documented is None:
        raise FileError("Invalid file format: 'file' is not an audio file.")
    return Raw(orjson.dumps(documented), "application/json", status=400)


def _file_message(example: Any) -> str | None:
    """The message of a documented error body whose ``param`` is file (OpenAI's envelope)."""
    error = example.get("error") if isinstance(example, dict) else None
    if not isinstance(error, dict) or error.get("param") != "file":
        return None
    message = error.get("message")
    return message if isinstance(message, str) else None


def transcript_for(ctx: RenderContext, data: bytes) -> Transcript:
    """One transcript for every format: the chosen example's text over the file's duration (a
    stream says what the first response example says, as the unstreamed answer would)."""
    example = ctx.example if ctx.example and isinstance(ctx.example.value, dict) else None
    example = example or ctx.op.example()
    chosen = example.value if example and isinstance(example.value, dict) else {}
    template = _template(ctx)
    text = str(chosen.get("text") or template.get("text") or "")
    code = ctx.field("language")
    language = (
        LANGUAGES.get(code, code)
        if isinstance(code, str) and code
        else str(chosen.get("language") or template.get("language") or "english")
    )
    if chosen.get("segments"):
        return Transcript(
            text, language, float(chosen.get("duration") or 0), copy.deepcopy(chosen["segments"])
        )
    duration = wav_seconds(data) or float(template.get("duration") or 0) or _spoken(text)
    return Transcript(text, language, duration, _segments(text, duration, template))


def _spoken(text: str) -> float:
    return round(max(1.0, 0.4 * len(_WORD.findall(text))), 2)


def _segments(text: str, duration: float, template: dict[str, Any]) -> list[dict[str, Any]]:
    """Sentences timed in proportion to their length across the duration."""
    sentences = [s for s in _SENTENCE.split(text.strip()) if s.strip()] or [text]
    model = (template.get("segments") or [{}])[0]
    total = sum(len(s) for s in sentences) or 1
    out, start, seen = [], 0.0, 0
    for i, sentence in enumerate(sentences):
        seen += len(sentence)
        end = round(duration * seen / total, 2)
        segment = {k: v for k, v in model.items() if k not in ("text", "tokens")}
        segment.update(
            id=i,
            seek=0,
            start=start,
            end=end,
            text=f" {sentence.strip()}",
            tokens=_tokens(sentence, start, end),
        )
        out.append(segment)
        start = end
    return out


def _tokens(sentence: str, start: float, end: float) -> list[int]:
    """Whisper-like token ids: a timestamp token, one id per word, a timestamp token."""
    words = [50 + zlib.crc32(w.encode()) % 50000 for w in _WORD.findall(sentence)]
    return [50364 + round(start * 50), *words, 50364 + round(end * 50)]


def _words(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for seg in segments:
        words = _WORD.findall(seg["text"])
        span = (seg["end"] - seg["start"]) / max(len(words), 1)
        for k, word in enumerate(words):
            start = round(seg["start"] + k * span, 2)
            out.append({"word": word, "start": start, "end": round(start + span, 2)})
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(segments: list[dict[str, Any]]) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line after each."""
    return "".join(
        f"{i}\n{_stamp(s['start'], ',')} --> {_stamp(s['end'], ',')}\n{s['text'].strip()}\n\n"
        for i, s in enumerate(segments, 1)
    )


def to_vtt(segments: list[dict[str, Any]]) -> str:
    """WebVTT: the WEBVTT header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues."""
    cues = "".join(
        f"{_stamp(s['start'], '.')} --> {_stamp(s['end'], '.')}\n{s['text'].strip()}\n\n"
        for s in segments
    )
    return f"WEBVTT\n\n{cues}"


def _granularities(ctx: RenderContext) -> set[str]:
    value = ctx.field("timestamp_granularities[]", ctx.field("timestamp_granularities"))
    values = value if isinstance(value, list) else [value]
    return {v for v in values if isinstance(v, str)}


def _audio_upload(ctx: RenderContext) -> bytes | Raw:
    """The uploaded audio file's bytes, or the documented 400 when it is not audio."""
    data = ctx.uploads.get("file")
    if not data:
        raise FileError("Missing required parameter: 'file' (a multipart file part).")
    if audio_kind(data) is None:
        return _not_audio(ctx)
    return data


def render_transcription(ctx: RenderContext) -> Any:
    """The transcript of the uploaded file in the requested response_format (json by default)."""
    data = _audio_upload(ctx)
    if isinstance(data, Raw):
        return data
    fmt = ctx.field("response_format") or "json"
    if fmt not in ("json", "text", "srt", "vtt", "verbose_json"):
        raise RenderError(400, f"Unsupported response_format {fmt!r}.")
    t = transcript_for(ctx, data)
    if fmt == "text":
        return Raw(f"{t.text}\n".encode(), TEXT)
    if fmt == "srt":
        return Raw(to_srt(t.segments).encode(), TEXT)
    if fmt == "vtt":
        return Raw(to_vtt(t.segments).encode(), TEXT)
    if fmt == "json":
        chosen = ctx.example.value if ctx.example and isinstance(ctx.example.value, dict) else {}
        extra = {k: v for k, v in chosen.items() if k in ("usage", "logprobs")}
        return {"text": t.text, **extra}
    template = _template(ctx)
    body: dict[str, Any] = {
        "task": template.get("task", "transcribe"),
        "language": t.language,
        "duration": t.duration,
        "text": t.text,
        "segments": t.segments,
    }
    if "word" in _granularities(ctx) and template.get("task") != "translate":
        body["words"] = _words(t.segments)
    return body


NOT_STREAMING = ("whisper-1",)
"""Transcription models that ignore ``stream`` (OpenAI: answered as if it were not sent)."""
_PIECE = re.compile(r"\s*\S+")


def render_transcription_events(ctx: RenderContext) -> list[Event]:
    """``stream: true``: transcript.text.delta events (a word each, joining into the text),
    then transcript.text.done with the text and token usage; whisper-1 answers unstreamed."""
    if ctx.field("model") in NOT_STREAMING:
        raise NotStreamed
    data = _audio_upload(ctx)
    if isinstance(data, Raw):
        raise RenderError(400, "Invalid file format: 'file' is not an audio file.", param="file")
    t = transcript_for(ctx, data)
    deltas = [Event({"type": "transcript.text.delta", "delta": p}) for p in _PIECE.findall(t.text)]
    audio_tokens = max(1, round(t.duration * 10))
    text_tokens = tokens.count(str(ctx.field("prompt") or ""))
    output = tokens.count(t.text)
    usage = {
        "type": "tokens",
        "input_tokens": audio_tokens + text_tokens,
        "output_tokens": output,
        "total_tokens": audio_tokens + text_tokens + output,
        "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }
    done = Event({"type": "transcript.text.done", "text": t.text, "usage": usage})
    return [*deltas, done]


JSON: dict[str, JsonRenderer] = {
    "audio.speech": render_speech,
    "audio.transcription": render_transcription,
}

STREAM: dict[str, StreamRenderer] = {
    "audio.speech.events": render_speech_events,
    "audio.transcription.events": render_transcription_events,
}
