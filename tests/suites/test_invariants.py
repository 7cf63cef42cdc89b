"""Each response invariant passes, fails (naming the numbers) and skips where it should."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from contracts.media import asset, png, svg
from contracts.model import ContractSet
from contracts.paths import template
from contracts.validation import Validators
from contracts.wire import auth
from mockserver.render.audio import to_srt, to_vtt
from suites.findings import Outcome
from suites.invariant_media import image_dimensions
from suites.invariants import (
    RESPONSE_INVARIANTS,
    STREAM_INVARIANTS,
    TASK_INVARIANTS,
    Observed,
    assemble_chat_stream,
    assemble_completion_stream,
    check_invariants,
    unknown_invariants,
)
from suites.probes import default_path_values, form_parts

PASS, FAIL, SKIP, INCONCLUSIVE = Outcome.PASS, Outcome.FAIL, Outcome.SKIP, Outcome.INCONCLUSIVE
Judge = Callable[..., tuple[Outcome, str]]


@pytest.fixture(scope="module")
def judge(contracts: ContractSet) -> Judge:
    """judge(name, request, body, **Observed fields) -> (outcome, message)."""
    validators = Validators(contracts.components)

    def run(name: str, request: dict[str, Any], body: Any, **kw: Any) -> tuple[Outcome, str]:
        kw.setdefault("content_type", "application/json")
        kw.setdefault("content", b"")
        return RESPONSE_INVARIANTS[name](Observed(request, body, **kw), validators)

    return run


def pair(contracts: ContractSet, op_id: str, name: str | None = None) -> tuple[dict, Any]:
    """A documented request example and the response example of the same name (copies)."""
    op = contracts.get(op_id)
    request = next(e for e in op.request.examples if name is None or e.name == name)
    response = op.example(request.name) or op.example()
    assert response is not None
    return copy.deepcopy(request.value), copy.deepcopy(response.value)


def test_every_invariant_a_contract_names_is_known(contracts: ContractSet) -> None:
    assert unknown_invariants(contracts) == []
    registries = [set(RESPONSE_INVARIANTS), set(TASK_INVARIANTS), set(STREAM_INVARIANTS)]
    assert sum(map(len, registries)) == len(set().union(*registries))
    used = {name for op in contracts for name in op.invariants}
    assert set(RESPONSE_INVARIANTS) <= used, "a response rule no contract uses"


def test_unknown_invariants_names_the_operation(contracts: ContractSet) -> None:
    op = replace(contracts.operations[0], invariants=("choices_len_n", "choises_len_n"))
    fake = replace(contracts, operations=(op,))
    assert unknown_invariants(fake) == [(op.id, "choises_len_n")]


# --- chat and completions ------------------------------------------------------------------


def test_choices_len_n(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.n_choices")
    assert judge("choices_len_n", req, body)[0] is PASS
    body["choices"].pop()
    assert judge("choices_len_n", req, body) == (FAIL, "1 choice(s); n=2 asks for 2")
    assert judge("choices_len_n", req, {"object": "x"})[0] is FAIL
    req, body = pair(contracts, "openai.chat.completions.nonstream")
    assert judge("choices_len_n", req, body) == (PASS, "1 choice(s), as n=1 (the default) asks")
    assert judge("choices_len_n", {"n": "two"}, body)[0] is SKIP


def test_choices_len_n_counts_prompts_of_legacy_completions(
    judge: Judge, contracts: ContractSet
) -> None:
    req, body = pair(contracts, "openai.completions", "n2-stop")
    assert judge("choices_len_n", req, body)[0] is PASS
    req["prompt"] = ["Q: one?", "Q: two?"]
    outcome, message = judge("choices_len_n", req, body)
    assert outcome is FAIL and "n=2 x 2 prompts asks for 4" in message
    req["prompt"] = [1212, 318]  # one prompt of token ids
    assert judge("choices_len_n", req, body)[0] is PASS


def test_usage_total(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.completions.nonstream")
    assert judge("usage_total", req, body)[0] is PASS
    u = body["usage"]
    u["total_tokens"] += 1
    p, c, t = u["prompt_tokens"], u["completion_tokens"], u["total_tokens"]
    assert judge("usage_total", req, body) == (
        FAIL,
        f"total_tokens {t} != prompt_tokens {p} + completion_tokens {c} = {p + c}",
    )
    body["usage"] = {"input_tokens": 3, "output_tokens": 4}
    assert judge("usage_total", req, body)[0] is SKIP
    body["usage"] = {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert judge("usage_total", req, body)[0] is PASS
    body["usage"] = {"prompt_tokens": 3}
    assert judge("usage_total", req, body)[0] is INCONCLUSIVE  # a chat answer must count both
    req, embeddings = pair(contracts, "openai.embeddings", "string-float")
    assert judge("usage_total", req, embeddings)[0] is PASS  # {prompt_tokens, total_tokens}
    embeddings["usage"]["total_tokens"] += 7
    assert judge("usage_total", req, embeddings)[0] is FAIL
    del body["usage"]
    outcome, message = judge("usage_total", req, body)  # OpenAI always sends it; relays bill by it
    assert outcome is FAIL and "no usage" in message
    outcome, message = judge("usage_total", {**req, "stream": True}, body)
    assert outcome is SKIP and "include_usage" in message
    asked = {**req, "stream": True, "stream_options": {"include_usage": True}}
    outcome, message = judge("usage_total", asked, body)  # sse.usage_chunk fails it, once
    assert outcome is INCONCLUSIVE and "sse.usage_chunk" in message
    del embeddings["usage"]
    assert judge("usage_total", req, embeddings)[0] is FAIL


def test_max_tokens_respected(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.completions", "say-test")
    assert judge("max_tokens_respected", req, body) == (PASS, "completion_tokens 7 <= max_tokens 7")
    body["usage"]["completion_tokens"] = 8
    assert judge("max_tokens_respected", req, body) == (
        FAIL,
        "completion_tokens 8 exceed max_tokens 7",
    )
    req, body = pair(contracts, "openai.chat.n_choices")  # n 2, max_tokens 16: cap 32
    body["usage"]["completion_tokens"] = 32
    assert judge("max_tokens_respected", req, body)[0] is PASS
    body["usage"]["completion_tokens"] = 33
    assert judge("max_tokens_respected", req, body) == (
        FAIL,
        "completion_tokens 33 exceed the cap 32 (max_tokens 16 x 2)",
    )
    req, body = pair(contracts, "openai.chat.o1_series")
    outcome, message = judge("max_tokens_respected", req, body)
    assert outcome is PASS and "max_completion_tokens 1000" in message
    assert judge("max_tokens_respected", {}, body)[0] is SKIP
    assert judge("max_tokens_respected", req, {"choices": []})[0] is INCONCLUSIVE


def test_finish_length_when_cut(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.completions", "say-test")  # length at 7 of 7
    assert judge("finish_length_when_cut", req, body)[0] is PASS
    body["usage"]["completion_tokens"] = 3
    assert judge("finish_length_when_cut", req, body) == (
        FAIL,
        "choice(s) 0 say length but completion_tokens 3 < 7 (max_tokens 7): not cut",
    )
    body["usage"]["prompt_tokens"] = 5000  # a full context window could explain it
    assert judge("finish_length_when_cut", req, body)[0] is INCONCLUSIVE
    body["usage"] = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    body["choices"][0]["finish_reason"] = "stop"
    outcome, message = judge("finish_length_when_cut", req, body)
    assert outcome is FAIL and "completion_tokens 7 = max_tokens 7" in message
    # a stop sequence may end the answer right at the cap: no clear evidence
    assert judge("finish_length_when_cut", {**req, "stop": "."}, body)[0] is INCONCLUSIVE
    body["usage"]["completion_tokens"] = 9
    assert judge("finish_length_when_cut", req, body)[0] is INCONCLUSIVE  # over the cap
    body["usage"]["completion_tokens"] = 4
    assert judge("finish_length_when_cut", req, body)[0] is SKIP  # nothing was cut
    del req["max_tokens"]
    assert judge("finish_length_when_cut", req, body)[0] is SKIP
    body["choices"][0]["finish_reason"] = "length"
    assert judge("finish_length_when_cut", req, body)[0] is INCONCLUSIVE


def test_finish_length_when_cut_with_n_choices(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.n_choices")  # n 2, max_tokens 16, both stop
    body["usage"]["completion_tokens"] = 32
    outcome, message = judge("finish_length_when_cut", req, body)
    assert outcome is FAIL and "the cap 32 (max_tokens 16 x 2)" in message
    body["usage"]["completion_tokens"] = 20  # one might have hit 16: no evidence either way
    assert judge("finish_length_when_cut", req, body)[0] is SKIP
    body["choices"][1]["finish_reason"] = "length"
    assert judge("finish_length_when_cut", req, body)[0] is PASS  # 20 >= 1 x 16


def test_stop_absent(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.completions", "n2-stop")
    assert judge("stop_absent", req, body) == (PASS, "none of 1 stop sequence(s) in 2 choice(s)")
    body["choices"][1]["text"] = " Blue\nGreen"
    assert judge("stop_absent", req, body) == (
        FAIL,
        "choice 1 contains the stop sequence '\\n' at 5",
    )
    echo = {**req, "echo": True}
    body["choices"][1]["text"] = req["prompt"] + " Blue"  # the echoed prompt has a newline
    assert judge("stop_absent", echo, body)[0] is PASS
    assert judge("stop_absent", req, body)[0] is FAIL
    req, body = pair(contracts, "openai.chat.completions.nonstream")
    assert judge("stop_absent", req, body)[0] is SKIP
    body["choices"][0]["message"]["content"] = "one END two"
    assert judge("stop_absent", {**req, "stop": "END"}, body)[0] is FAIL
    req, body = pair(contracts, "openai.chat.function_calling.nonstream_only", "forced-call")
    assert judge("stop_absent", {**req, "stop": ["x"]}, body)[0] is SKIP  # tool calls only


def test_tool_calls_present(judge: Judge, contracts: ContractSet) -> None:
    op = "openai.chat.function_calling.nonstream_only"
    req, body = pair(contracts, op, "forced-call")
    assert judge("tool_calls_present", req, body)[0] is PASS
    _, text = pair(contracts, op, "tool-result")
    outcome, message = judge("tool_calls_present", req, text)
    assert outcome is FAIL and "choice 0 has none" in message
    assert judge("tool_calls_present", {**req, "tool_choice": "none"}, text)[0] is PASS
    outcome, message = judge("tool_calls_present", {**req, "tool_choice": "none"}, body)
    assert outcome is FAIL and "'get_weather'" in message
    assert judge("tool_calls_present", {**req, "tool_choice": "auto"}, text)[0] is SKIP
    assert judge("tool_calls_present", {**req, "tool_choice": "required"}, body)[0] is PASS
    body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = "get_time"
    outcome, message = judge("tool_calls_present", {**req, "tool_choice": "auto"}, body)
    assert outcome is FAIL and "'get_time', not an offered tool" in message
    assert judge("tool_calls_present", {"messages": []}, body)[0] is SKIP


def test_tool_calls_present_reads_legacy_functions(judge: Judge) -> None:
    req = {"functions": [{"name": "f"}], "function_call": {"name": "f"}}
    body = {"choices": [{"message": {"function_call": {"name": "f", "arguments": "{}"}}}]}
    assert judge("tool_calls_present", req, body)[0] is PASS
    assert judge("tool_args_match_schema", req, body)[0] is PASS


def test_tool_args_match_schema(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.function_calling.nonstream_only", "forced-call")
    assert judge("tool_args_match_schema", req, body)[0] is PASS
    fn = body["choices"][0]["message"]["tool_calls"][0]["function"]
    fn["arguments"] = '{"unit": "kelvin"}'
    outcome, message = judge("tool_args_match_schema", req, body)
    assert outcome is FAIL and "break the parameters schema" in message
    fn["arguments"] = '{"location": "Paris"'
    outcome, message = judge("tool_args_match_schema", req, body)
    assert outcome is FAIL and "not JSON" in message
    fn["arguments"] = {"location": "Paris"}
    outcome, message = judge("tool_args_match_schema", req, body)
    assert outcome is FAIL and "not a JSON string" in message
    fn["arguments"], fn["name"] = "{}", "unknown_tool"
    assert judge("tool_args_match_schema", req, body)[0] is INCONCLUSIVE
    _, text = pair(contracts, "openai.chat.function_calling.nonstream_only", "tool-result")
    assert judge("tool_args_match_schema", req, text)[0] is SKIP


def test_tool_args_schema_may_use_local_defs(judge: Judge) -> None:
    params = {
        "type": "object",
        "properties": {"when": {"$ref": "#/$defs/Day"}},
        "required": ["when"],
        "$defs": {"Day": {"enum": ["mon", "tue"]}},
    }
    req = {"tools": [{"type": "function", "function": {"name": "f", "parameters": params}}]}

    def body(args: str) -> dict:
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}
        return {"choices": [{"message": {"tool_calls": [call]}}]}

    assert judge("tool_args_match_schema", req, body('{"when": "mon"}'))[0] is PASS
    assert judge("tool_args_match_schema", req, body('{"when": "sun"}'))[0] is FAIL


def test_json_content(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.structured_output.json_schema")
    assert judge("json_content_parses", req, body)[0] is PASS
    assert judge("json_schema_content_valid", req, body)[0] is PASS
    message = body["choices"][0]["message"]
    parsed = json.loads(message["content"])
    message["content"] = json.dumps({**parsed, "population": "many"})
    outcome, text = judge("json_schema_content_valid", req, body)
    assert outcome is FAIL and text.startswith("choice 0's content breaks json_schema.schema")
    assert "population" in text
    message["content"] = "```json\n" + json.dumps(parsed) + "\n```"
    outcome, text = judge("json_content_parses", req, body)
    assert outcome is FAIL and "not JSON (json_schema)" in text
    assert judge("json_schema_content_valid", req, body)[0] is INCONCLUSIVE
    body["choices"][0]["finish_reason"] = "length"
    assert judge("json_content_parses", req, body)[0] is INCONCLUSIVE
    message["content"], message["refusal"] = None, "I can't help with that."
    assert judge("json_content_parses", req, body)[0] is INCONCLUSIVE
    json_object = {**req, "response_format": {"type": "json_object"}}
    message["content"] = '{"a": 1}'
    assert judge("json_content_parses", json_object, body)[0] is PASS
    assert judge("json_schema_content_valid", json_object, body)[0] is SKIP
    assert judge("json_content_parses", {}, body)[0] is SKIP


def test_reasoning_tokens_reported(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.o1_series")
    assert judge("reasoning_tokens_reported", req, body) == (PASS, "reasoning_tokens 256 reported")
    del body["usage"]["completion_tokens_details"]
    assert judge("reasoning_tokens_reported", req, body)[0] is FAIL
    del body["usage"]
    assert judge("reasoning_tokens_reported", req, body)[0] is INCONCLUSIVE


def test_audio_present(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.chat.audio_output")
    assert judge("audio_present", req, body)[0] is PASS
    audio = body["choices"][0]["message"]["audio"]
    audio["data"] = base64.b64encode(asset("mp3")[0]).decode()
    outcome, message = judge("audio_present", req, body)
    assert outcome is FAIL and "audio.format wav, but data starts ff fb" in message
    audio["data"] = "not base64!"
    assert judge("audio_present", req, body)[0] is FAIL
    del audio["transcript"]
    assert judge("audio_present", req, body) == (FAIL, "choice 0: message.audio has no transcript")
    assert judge("audio_present", {**req, "modalities": ["text"]}, body)[0] is SKIP


# --- images ---------------------------------------------------------------------------------

JPEG_16 = bytes.fromhex(  # the header of a real 16x16 JFIF file, up to its SOF0 segment
    "ffd8ffe000104a46494600010101000100010000ffdb0043000302020202020302020203030303040604040404"
    "04080606050609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010"
    "ffc00011080010001003012200021101031101"
)
WEBP_VP8X_16 = bytes.fromhex("52494646a8010000574542505650385800000000100000000f00000f0000")


def test_image_dimensions_from_headers() -> None:
    assert image_dimensions(png(37, 21)) == (37, 21)
    assert image_dimensions(svg(300, 200)) == (300, 200)
    assert image_dimensions(b'<svg viewBox="0 0 64 48" xmlns="x"></svg>') == (64, 48)
    assert image_dimensions(JPEG_16) == (16, 16)
    assert image_dimensions(WEBP_VP8X_16) == (16, 16)
    vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0" + b"\0\0\0\x9d\x01\x2a" + bytes.fromhex("40010002")
    assert image_dimensions(vp8) == (320, 512)
    bits = (640 - 1) | ((480 - 1) << 14)
    vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f" + bits.to_bytes(4, "little")
    assert image_dimensions(vp8l) == (640, 480)
    assert image_dimensions(b"GIF89a\x10\x00\x20\x00") == (16, 32)
    assert image_dimensions(b"BM not an image we read") is None


def test_image_count_matches_n(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.images.generations", "dall-e-2-b64")
    assert judge("image_count_matches_n", req, body) == (PASS, "2 image(s), as n=2 asks")
    body["data"].pop()
    assert judge("image_count_matches_n", req, body) == (FAIL, "1 image(s); n=2 asks for 2")
    req, body = pair(contracts, "openai.images.generations", "gpt-image-1")
    assert judge("image_count_matches_n", req, body)[0] is PASS  # n absent: 1
    req, body = pair(contracts, "openai.images.generations.stable_diffusion", "sd35-b64")
    assert judge("image_count_matches_n", {**req, "batch_size": 2}, body)[0] is FAIL
    assert judge("image_count_matches_n", {**req, "n": "x"}, body)[0] is SKIP


def test_image_size_matches_base64(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.images.generations", "dall-e-2-b64")
    # the documented b64_json is a 1x1 placeholder: exactly what the rule must catch
    assert judge("image_size_matches", req, body) == (
        FAIL,
        "image 0 is 1x1; size asks for 512x512",
    )
    for item in body["data"]:
        item["b64_json"] = base64.b64encode(png(512, 512)).decode()
    assert judge("image_size_matches", req, body)[0] is PASS
    wrapped = base64.encodebytes(png(512, 512)).decode()  # MIME-style line breaks
    body["data"] = [{"b64_json": wrapped}, {"url": "data:image/png;base64," + wrapped}]
    assert judge("image_size_matches", req, body)[0] is PASS
    assert judge("image_size_matches", {**req, "size": "auto"}, body)[0] is SKIP
    assert judge("image_size_matches", {**req, "size": "16:9"}, body)[0] is SKIP
    assert judge("image_size_matches", {"prompt": "p"}, body)[0] is SKIP


def test_image_size_matches_urls(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.images.generations", "dall-e-3")  # 1024x1024, a URL

    def serving(status: int | None, data: bytes) -> Callable[[str], Any]:
        return lambda url: (status, "image/png", data)

    ok = serving(200, png(1024, 1024))
    assert judge("image_size_matches", req, body, fetch=ok)[0] is PASS
    wide = serving(200, png(1792, 1024))
    outcome, message = judge("image_size_matches", req, body, fetch=wide)
    assert (outcome, message) == (FAIL, "image 0 is 1792x1024; size asks for 1024x1024")
    outcome, message = judge("image_size_matches", req, body)
    assert outcome is INCONCLUSIVE and "may not fetch" in message
    outcome, message = judge("image_size_matches", req, body, fetch=serving(404, b""))
    assert outcome is INCONCLUSIVE and "answered 404" in message
    outcome, message = judge("image_size_matches", req, body, fetch=serving(200, b"GIF8"))
    assert outcome is INCONCLUSIVE and "no PNG/JPEG" in message


# --- embeddings, models ---------------------------------------------------------------------


def test_embedding_count_matches_input(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.embeddings", "string-float")
    assert judge("embedding_count_matches_input", req, body)[0] is PASS
    req, _ = pair(contracts, "openai.embeddings", "token-ids-langchain")  # [[...]]: one input
    assert judge("embedding_count_matches_input", req, body)[0] is PASS
    assert judge("embedding_count_matches_input", {"input": [2028, 374]}, body)[0] is PASS
    req, _ = pair(contracts, "openai.embeddings", "strings")
    assert judge("embedding_count_matches_input", req, body) == (
        FAIL,
        "1 embedding(s) for 2 input(s)",
    )
    body["data"].append({**body["data"][0]})  # two vectors, both index 0
    assert judge("embedding_count_matches_input", req, body)[0] is FAIL
    assert judge("embedding_count_matches_input", {}, body)[0] is SKIP


def test_embedding_dimensions(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.embeddings", "string-float")  # 8 floats
    assert judge("embedding_dimensions", req, body)[0] is SKIP
    assert judge("embedding_dimensions", {**req, "dimensions": 8}, body)[0] is PASS
    assert judge("embedding_dimensions", {**req, "dimensions": 4}, body) == (
        FAIL,
        "embedding 0 has 8 values; dimensions asks for 4",
    )
    op = contracts.get("openai.embeddings")
    b64 = copy.deepcopy(op.example("token-ids-base64").value)  # 8 float32 as base64
    assert judge("embedding_dimensions", {"dimensions": 8}, b64)[0] is PASS
    assert judge("embedding_dimensions", {"dimensions": 16}, b64)[0] is FAIL
    b64["data"][0]["embedding"] = {"values": []}
    assert judge("embedding_dimensions", {"dimensions": 8}, b64)[0] is INCONCLUSIVE


def test_model_listed(judge: Judge, contracts: ContractSet) -> None:
    body = contracts.get("openai.models.list").example().value
    assert judge("model_listed", {}, body, models=("gpt-4o", "dall-e-3"))[0] is PASS
    assert judge("model_listed", {}, body, models=("gpt-4o", "gpt-9")) == (
        FAIL,
        "1 of 2 model(s) not listed: gpt-9",
    )
    assert judge("model_listed", {}, body)[0] is SKIP


# --- audio ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_speech_format_matches_each_format(judge: Judge, fmt: str) -> None:
    data, media_type = asset(fmt)
    req = {"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": fmt}
    assert judge("speech_format_matches", req, None, content_type=media_type, content=data)[0] is (
        PASS
    )


def test_speech_format_matches(judge: Judge) -> None:
    mp3, _ = asset("mp3")
    req = {"model": "tts-1", "input": "hi", "voice": "alloy"}
    assert judge("speech_format_matches", req, None, content_type="audio/mpeg", content=mp3)[0] is (
        PASS
    )
    opus = {**req, "response_format": "opus"}
    outcome, message = judge("speech_format_matches", opus, None, content_type="audio/mpeg")
    assert outcome is FAIL and "content type audio/mpeg, expected audio/ogg" in message
    outcome, message = judge(
        "speech_format_matches", opus, None, content_type="audio/ogg", content=mp3
    )
    assert (outcome, message) == (FAIL, "opus: the body starts ff fb 40 c0, not OggS")
    outcome, message = judge("speech_format_matches", req, None, content_type="audio/mpeg")
    assert (outcome, message) == (FAIL, "mp3: the body is empty")
    assert judge("speech_format_matches", {"response_format": "midi"}, None)[0] is SKIP


def test_transcript_json_formats(judge: Judge, contracts: ContractSet) -> None:
    req, body = pair(contracts, "openai.audio.transcriptions", "whisper-json")
    assert judge("transcript_format_matches", req, body)[0] is PASS
    outcome, _ = judge("transcript_format_matches", req, None, content_type="text/plain")
    assert outcome is FAIL
    req, body = pair(contracts, "openai.audio.transcriptions", "whisper-verbose")
    assert judge("transcript_format_matches", req, body)[0] is PASS
    del body["words"]  # timestamp_granularities[] asks for words
    outcome, message = judge("transcript_format_matches", req, body)
    assert outcome is FAIL and "lacks words" in message
    req, body = pair(contracts, "openai.audio.translations", "whisper-verbose")
    assert judge("transcript_format_matches", req, body)[0] is PASS
    del body["duration"]
    assert judge("transcript_format_matches", req, body)[0] is FAIL


def test_transcript_text_formats(judge: Judge) -> None:
    segments = [
        {"start": 0.0, "end": 1.5, "text": " Hello."},
        {"start": 1.5, "end": 3.0, "text": " Bye."},
    ]
    srt, vtt = to_srt(segments).encode(), to_vtt(segments).encode()

    def text(fmt: str, content: bytes, ctype: str = "text/plain") -> tuple[Outcome, str]:
        req = {"model": "whisper-1", "response_format": fmt}
        return judge("transcript_format_matches", req, None, content_type=ctype, content=content)

    assert text("srt", srt) == (PASS, "srt: 2 cue(s) with comma milliseconds")
    assert text("srt", vtt.replace(b"WEBVTT\n\n", b""))[0] is FAIL  # dots, not commas
    assert text("srt", b"")[0] is INCONCLUSIVE
    assert text("vtt", vtt)[0] is PASS
    assert text("vtt", srt) == (FAIL, "vtt: the body starts '1\\n00:00:00,000 -', not WEBVTT")
    assert text("text", b"Hello. Bye.\n")[0] is PASS
    assert text("text", b'{"text": "Hello."}') == (
        FAIL,
        "text: the body is a JSON object, not plain text",
    )
    assert text("text", b"Hello.", "application/json")[0] is FAIL


# --- the entry point and stream assembly ----------------------------------------------------


def test_check_invariants_judges_only_response_names(contracts: ContractSet) -> None:
    op = contracts.get("openai.completions")
    req, body = pair(contracts, "openai.completions", "say-test")
    found = check_invariants(op, Observed(req, body, "application/json", b""), Validators({}))
    names = [n for n in op.invariants if n in RESPONSE_INVARIANTS]
    assert [f.check_id for f in found] == [f"invariant.{n}" for n in names]
    assert "usage_chunk_iff_requested" in op.invariants and len(found) == len(op.invariants) - 1
    assert all(f.operation_id == op.id and f.source == "" for f in found)
    assert {f.outcome for f in found} <= {PASS, SKIP}


def test_a_rule_that_breaks_is_an_error_not_a_crash(contracts: ContractSet) -> None:
    op = contracts.get("openai.images.generations")
    req, body = pair(contracts, "openai.images.generations", "dall-e-3")

    def broken(url: str) -> tuple[int | None, str, bytes]:
        raise RuntimeError("socket on fire")

    observed = Observed(req, body, "application/json", b"", fetch=broken)
    found = {f.check_id: f for f in check_invariants(op, observed, Validators({}))}
    error = found["invariant.image_size_matches"]
    assert error.outcome is Outcome.ERROR and "RuntimeError: socket on fire" in error.message
    assert found["invariant.image_count_matches_n"].outcome is PASS


def test_assemble_chat_stream_tool_calls(contracts: ContractSet) -> None:
    op = contracts.get("openai.chat.function_calling.official")
    stream, example = op.stream_example(), op.example()
    assert stream is not None and example is not None
    chunks = stream.value
    body = assemble_chat_stream(chunks)
    expected = example.value["choices"][0]
    choice = body["choices"][0]
    assert choice["finish_reason"] == expected["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == expected["message"]["tool_calls"]
    assert body["object"] == "chat.completion" and body["id"] == chunks[0]["id"]


def test_assemble_chat_stream_choices_reasoning_usage() -> None:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(index: int, delta: dict, finish: str | None = None) -> dict:
        choice = {"index": index, "delta": delta, "finish_reason": finish}
        return {**head, "choices": [choice], "usage": None}

    name = {"name": "f", "arguments": '{"a"'}
    chunks = [
        chunk(0, {"role": "assistant", "content": ""}),
        chunk(1, {"role": "assistant", "content": ""}),
        chunk(0, {"reasoning_content": "think "}),
        chunk(0, {"reasoning_content": "more"}),
        chunk(0, {"content": "Hel"}),
        chunk(1, {"tool_calls": [{"index": 0, "id": "t", "type": "function", "function": name}]}),
        chunk(0, {"content": "lo"}, "stop"),
        chunk(1, {"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ": 1}"}}]}),
        chunk(1, {}, "tool_calls"),
    ]
    body = assemble_chat_stream(chunks)
    assert "usage" not in body
    first, second = body["choices"]
    assert first["message"]["content"] == "Hello"
    assert first["message"]["reasoning_content"] == "think more"
    assert first["finish_reason"] == "stop"
    assert second["message"]["tool_calls"] == [
        {"id": "t", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    with_usage = assemble_chat_stream([*chunks, {**head, "choices": [], "usage": usage}])
    assert with_usage["usage"] == usage


def test_assemble_completion_stream(contracts: ContractSet) -> None:
    stream = contracts.get("openai.completions").stream_example()
    assert stream is not None
    chunks = stream.value
    body = assemble_completion_stream(chunks)
    assert body["object"] == "text_completion"
    assert body["choices"] == [
        {"index": 0, "text": "\n\nThis is a test.", "logprobs": None, "finish_reason": "stop"}
    ]
    assert body["usage"]["total_tokens"] == 11
    assert "usage" not in assemble_completion_stream(chunks[:-1])


# --- end to end against the mock ------------------------------------------------------------

EXTRA_REQUESTS = [
    ("openai.embeddings", "string-float", {"dimensions": 8}),
    ("openai.chat.completions.nonstream", "hello", {"max_tokens": 3, "stop": ["how"]}),
    ("openai.chat.completions.stream", "hello", {"max_tokens": 2, "n": 2}),
    ("openai.completions", "say-test", {"max_tokens": 2}),
]
"""Example variations that exercise a rule no documented example does."""


def _observe(client: httpx.Client, op_id: str, body: dict, contracts: ContractSet) -> Observed:
    op = contracts.get(op_id)
    path = template(op.path).fill(default_path_values(op))  # Gemini's /v1beta/models/{model}:...
    headers = auth.present(op.auth[0], "sk-test")  # the client's Bearer, or Gemini's header
    if op.request.content_type == "multipart/form-data":
        response = client.post(path, files=form_parts(body), headers=headers)
    else:
        response = client.post(path, json=body, headers=headers)
    assert response.status_code == op.response.status, (op_id, response.text[:300])
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/event-stream":
        parsed = response.json() if media_type == "application/json" else None
        return Observed(body, parsed, media_type, response.content, fetch=_fetcher(client))
    datas = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    chunks = [json.loads(d) for d in datas if d != "[DONE]"]
    legacy = any(c.get("object") == "text_completion" for c in chunks)
    assembled = assemble_completion_stream(chunks) if legacy else assemble_chat_stream(chunks)
    return Observed(body, assembled, "application/json", b"", fetch=_fetcher(client))


def _fetcher(client: httpx.Client) -> Callable[[str], tuple[int | None, str, bytes]]:
    def fetch(url: str) -> tuple[int | None, str, bytes]:
        try:
            r = client.get(url)
        except httpx.HTTPError:
            return None, "", b""
        return r.status_code, r.headers.get("content-type", ""), r.content

    return fetch


def test_the_mock_breaks_no_invariant(contracts: ContractSet, mock_url: str) -> None:
    validators = Validators(contracts.components)
    requests = [
        (op.id, e.name, copy.deepcopy(e.value))
        for op in contracts
        if set(op.invariants) & set(RESPONSE_INVARIANTS)
        and op.request.content_type in ("application/json", "multipart/form-data")
        for e in op.request.examples
        if e.servable and isinstance(e.value, dict)
    ]
    for op_id, name, changes in EXTRA_REQUESTS:
        example = next(e for e in contracts.get(op_id).request.examples if e.name == name)
        requests.append((op_id, f"{name}+{sorted(changes)}", {**example.value, **changes}))
    assert len(requests) > 40
    bad, passed = [], set()
    headers = {"Authorization": "Bearer sk-test"}
    with httpx.Client(base_url=mock_url, headers=headers, timeout=30) as client:
        for op_id, name, body in requests:
            observed = _observe(client, op_id, body, contracts)
            for f in check_invariants(contracts.get(op_id), observed, validators):
                if f.outcome in (FAIL, Outcome.ERROR):
                    bad.append(f"{op_id} [{name}] {f.check_id}: {f.outcome}: {f.message}")
                passed |= {f.check_id} if f.outcome is PASS else set()
        models = contracts.get("openai.models.list")
        listing = client.get(models.path).json()
        observed = Observed({}, listing, "application/json", b"", models=("gpt-4o-mini", "tts-1"))
        [listed] = check_invariants(models, observed, validators)
        assert listed.outcome is PASS, listed.message
        passed.add(listed.check_id)
    assert bad == []
    assert passed == {f"invariant.{n}" for n in RESPONSE_INVARIANTS}, "a rule never exercised"
