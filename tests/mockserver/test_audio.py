"""Audio through the official openai SDK: speech bytes per format, transcripts per format."""

from __future__ import annotations

import io
import itertools
import re
import struct
import wave

import httpx
import openai
import pytest

from contracts.media import MEDIA, MEDIA_DIR
from mockserver.render.audio import audio_kind, to_srt, to_vtt, wav_seconds

WAV = (MEDIA_DIR / "silence.wav").read_bytes()
AUTH = {"Authorization": "Bearer sk-audio"}
SRT_CUE = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)")
VTT_CUE = re.compile(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)")


def _pcm_frames(data: bytes) -> int:
    assert len(data) % 2 == 0
    return len(data) // 2


MAGIC = {
    "mp3": lambda b: b[0] == 0xFF and b[1] & 0xE0 == 0xE0 and b[1] & 0x06 != 0,
    "opus": lambda b: b[:4] == b"OggS" and b"OpusHead" in b[:64],
    "aac": lambda b: b[0] == 0xFF and b[1] & 0xF6 == 0xF0,  # ADTS sync, layer 00
    "flac": lambda b: b[:4] == b"fLaC",
    "wav": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE",
    "pcm": lambda b: _pcm_frames(b) == 12000,  # 0.5 s of s16le at 24 kHz, mono: no header
}
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@pytest.mark.parametrize("fmt", list(MAGIC))
def test_speech_answers_real_audio_in_each_format(client: openai.OpenAI, fmt: str) -> None:
    audio = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="你好,欢迎使用中转站。",
        response_format=fmt,  # type: ignore[arg-type]
        speed=1.5,
    )
    data = audio.content
    assert audio.response.headers["content-type"] == CONTENT_TYPES[fmt]
    assert MAGIC[fmt](data), data[:16]
    assert len(data) < 25_000


def test_speech_defaults_to_mp3_and_wav_decodes(client: openai.OpenAI) -> None:
    mp3 = client.audio.speech.create(model="tts-1", voice="nova", input="Hello")
    assert mp3.response.headers["content-type"] == "audio/mpeg" and MAGIC["mp3"](mp3.content)
    wav = client.audio.speech.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input="Hello",
        instructions="Cheerful.",
        response_format="wav",
    )
    with wave.open(io.BytesIO(wav.content)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        assert w.getnframes() == 12000 and len(w.readframes(w.getnframes())) == 24000


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "tts-1", "voice": "alloy", "input": "x" * 4097}, "input"),
        ({"model": "tts-1", "voice": "alloy", "input": "hi", "speed": 4.5}, "speed"),
        ({"model": "tts-1", "voice": "alloy", "input": "hi", "response_format": "ogg"}, None),
        ({"model": "tts-1", "input": "hi"}, None),
    ],
)
def test_speech_refuses_bad_requests_in_the_envelope(
    client: openai.OpenAI, body: dict[str, object], param: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/audio/speech", body=body, cast_to=httpx.Response)
    error = caught.value.body
    assert isinstance(error, dict) and error["type"] == "invalid_request_error"
    if param:
        assert error["param"] == param


def _transcribe(client: openai.OpenAI, fmt: str, **extra: object) -> object:
    return client.audio.transcriptions.create(
        model="whisper-1",
        file=("hello.wav", WAV, "audio/wav"),
        response_format=fmt,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def _srt_cues(text: str) -> list[tuple[str, str, str]]:
    blocks = text.split("\n\n")
    assert text.endswith("\n\n") and blocks[-1] == ""
    cues = []
    for n, block in enumerate(blocks[:-1], 1):
        m = SRT_CUE.fullmatch(block)
        assert m and int(m.group(1)) == n, block
        cues.append((m.group(2), m.group(3), m.group(4)))
    return cues


def _vtt_cues(text: str) -> list[tuple[str, str, str]]:
    assert text.startswith("WEBVTT\n\n") and text.endswith("\n\n")
    cues = []
    for block in text[len("WEBVTT\n\n") : -2].split("\n\n"):
        m = VTT_CUE.fullmatch(block)
        assert m, block
        cues.append((m.group(1), m.group(2), m.group(3)))
    return cues


def test_transcription_every_format_tells_the_same_transcript(client: openai.OpenAI) -> None:
    plain = client.audio.transcriptions.create(
        model="whisper-1", file=("hello.wav", WAV, "audio/wav")
    )
    assert isinstance(plain, openai.types.audio.Transcription) and plain.text
    text = _transcribe(client, "text")
    assert isinstance(text, str) and text == plain.text + "\n"
    verbose = _transcribe(client, "verbose_json", timestamp_granularities=["word", "segment"])
    assert isinstance(verbose, openai.types.audio.TranscriptionVerbose)
    assert verbose.text == plain.text and verbose.duration == 0.5  # the uploaded WAV's length
    assert verbose.language == "english"
    segments = verbose.segments or []
    assert segments and segments[0].start == 0 and segments[-1].end == 0.5
    assert all(a.end == b.start for a, b in itertools.pairwise(segments))
    assert " ".join(s.text.strip() for s in segments) == plain.text
    words = verbose.words or []
    assert [w.word for w in words][:3] == ["Hello", "this", "is"]
    assert all(0 <= w.start <= w.end <= 0.5 for w in words)
    srt = _transcribe(client, "srt")
    vtt = _transcribe(client, "vtt")
    assert isinstance(srt, str) and isinstance(vtt, str)
    srt_cues, vtt_cues = _srt_cues(srt), _vtt_cues(vtt)
    assert (
        [c[2] for c in srt_cues] == [c[2] for c in vtt_cues] == [s.text.strip() for s in segments]
    )
    assert srt_cues[0][0] == "00:00:00,000" and srt_cues[-1][1] == "00:00:00,500"
    assert vtt_cues[-1][1] == "00:00:00.500"


def test_transcription_language_and_no_words_unless_asked(client: openai.OpenAI) -> None:
    verbose = _transcribe(client, "verbose_json", language="de")
    assert isinstance(verbose, openai.types.audio.TranscriptionVerbose)
    assert verbose.language == "german" and verbose.words is None and verbose.segments


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_translation_answers_each_format(client: openai.OpenAI, fmt: str) -> None:
    out = client.audio.translations.create(
        model="whisper-1",
        file=("german.wav", WAV, "audio/wav"),
        response_format=fmt,  # type: ignore[arg-type]
    )
    english = "Hello, my name is Wolfgang and I come from Germany. Where are you heading today?"
    if fmt == "json":
        assert isinstance(out, openai.types.audio.Translation) and out.text == english
    elif fmt == "text":
        assert out == english + "\n"
    elif fmt == "srt":
        assert isinstance(out, str)
        assert [c[2] for c in _srt_cues(out)] == [
            "Hello, my name is Wolfgang and I come from Germany.",
            "Where are you heading today?",
        ]
    elif fmt == "vtt":
        assert isinstance(out, str) and len(_vtt_cues(out)) == 2
    else:
        assert isinstance(out, openai.types.audio.TranslationVerbose)
        assert out.duration == 0.5 and out.text == english and out.segments
        raw = client.audio.translations.with_raw_response.create(
            model="whisper-1", file=("german.wav", WAV, "audio/wav"), response_format=fmt
        ).http_response.json()
        assert raw["task"] == "translate" and "words" not in raw
        assert raw["segments"][-1]["end"] == raw["duration"] == 0.5


def test_a_file_that_is_not_audio_is_a_400_naming_file(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(
            model="whisper-1", file=("notes.txt", b"just some text", "text/plain")
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "file" and "Invalid file format" in error["message"]
    with pytest.raises(openai.BadRequestError):
        client.audio.translations.create(
            model="whisper-1", file=("fake.wav", b"\x89PNG\r\n\x1a\n" + bytes(64), "audio/wav")
        )


def test_a_missing_file_is_a_400_about_file(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}/v1/audio/transcriptions",
        data={"model": "whisper-1"},
        files={"audio": ("a.wav", WAV, "audio/wav")},
        headers=AUTH,
    )
    assert r.status_code == 400 and "file" in r.json()["error"]["message"]


def test_every_served_media_kind_downloads_real_bytes(mock_url: str) -> None:
    for kind, (_, media_type) in MEDIA.items():
        r = httpx.get(f"{mock_url}/_relaykit/files/clip-3.{kind}")
        assert r.status_code == 200 and r.headers["content-type"] == media_type, kind
        data = r.content
        if kind == "mp4":
            assert data[4:8] == b"ftyp" and b"avc1" in data  # H.264 in an MP4 box
        elif kind == "webm":
            assert data[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in data[:64]
        elif kind == "pcm":
            assert _pcm_frames(data) == 12000
        else:
            assert audio_kind(data) is not None or MAGIC["aac"](data), kind
    assert wav_seconds(httpx.get(f"{mock_url}/_relaykit/files/x.wav").content) == 0.5


def test_magic_bytes_and_wav_duration() -> None:
    assert audio_kind(WAV) == "wav" and wav_seconds(WAV) == 0.5
    assert audio_kind(b"ID3\x04" + bytes(20)) == "mp3"
    assert audio_kind((MEDIA_DIR / "silence.mp3").read_bytes()) == "mp3"
    assert audio_kind((MEDIA_DIR / "silence.aac").read_bytes()) is None  # not in OpenAI's list
    assert audio_kind(b"\x89PNG\r\n\x1a\n") is None and audio_kind(b"") is None
    odd = WAV[:4] + struct.pack("<I", 0) + WAV[8:40] + struct.pack("<I", 48000) + bytes(48000)
    assert wav_seconds(odd) == 1.0


def test_srt_and_vtt_stamp_hours_and_milliseconds() -> None:
    segments = [{"start": 3723.0456, "end": 3724.5, "text": " Hi."}]
    assert to_srt(segments) == "1\n01:02:03,046 --> 01:02:04,500\nHi.\n\n"
    assert to_vtt(segments) == "WEBVTT\n\n01:02:03.046 --> 01:02:04.500\nHi.\n\n"


def test_assets_are_small_and_made_by_the_script() -> None:
    script = (MEDIA_DIR.parent.parent / "bench" / "make_assets.sh").read_text(encoding="utf-8")
    for name, _ in MEDIA.values():
        path = MEDIA_DIR / name
        assert path.stat().st_size < 25_000, name
        assert f"$out/{name}" in script, name
