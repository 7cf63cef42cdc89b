"""openai-agents (the OpenAI Agents SDK) runs an agent with a function tool to its final output
against the mock, through the Chat Completions model and through the Responses model (the SDK's
default): the loop a client developer writes."""

from __future__ import annotations

import asyncio

from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from openai import AsyncOpenAI

set_tracing_disabled(True)  # no trace export: tests never touch the internet


def _agent(mock_url: str, calls: list[str], **settings: object) -> Agent:
    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return f"18°C and light rain in {city}"

    client = AsyncOpenAI(base_url=f"{mock_url}/v1", api_key="sk-agents", max_retries=0)
    return Agent(
        name="weather",
        instructions="Answer questions about the weather; use the tool.",
        tools=[get_weather],
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
        model_settings=ModelSettings(**settings),  # type: ignore[arg-type]
    )


def test_an_agent_with_a_function_tool_returns_its_final_output(mock_url: str) -> None:
    calls: list[str] = []
    result = asyncio.run(Runner.run(_agent(mock_url, calls), "Weather in Paris?", max_turns=4))
    assert len(calls) == 1 and len(result.raw_responses) == 2
    assert isinstance(result.final_output, str)
    assert f"18°C and light rain in {calls[0]}" in result.final_output


def test_a_streamed_run_with_tool_choice_required_ends_too(mock_url: str) -> None:
    # The SDK resets tool_choice after a tool call (reset_tool_choice), as OpenAI advises;
    # the mock calls again while "required" holds, then answers.
    calls: list[str] = []

    async def run() -> object:
        agent = _agent(mock_url, calls, tool_choice="required")
        streamed = Runner.run_streamed(agent, "Weather in Paris?", max_turns=4)
        kinds = [event.type async for event in streamed.stream_events()]
        assert "raw_response_event" in kinds
        return streamed.final_output

    final = asyncio.run(run())
    assert len(calls) == 1 and isinstance(final, str) and "light rain" in final


def test_an_agent_on_the_responses_model_returns_its_final_output(mock_url: str) -> None:
    """openai-agents' default model, the Responses API: the SDK resends the whole turn as input
    items (function_call, function_call_output), or chains with previous_response_id."""
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return f"18°C and light rain in {city}"

    client = AsyncOpenAI(base_url=f"{mock_url}/v1", api_key="sk-agents", max_retries=0)
    agent = Agent(
        name="weather",
        instructions="Answer questions about the weather; use the tool.",
        tools=[get_weather],
        model=OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client),
    )

    async def both() -> list[object]:  # one event loop: the client's connections live in it
        results = []
        for chained in (False, True):
            result = await Runner.run(
                agent, "Weather in Paris?", max_turns=4, auto_previous_response_id=chained
            )
            assert len(result.raw_responses) == 2
            results.append(result.final_output)
        return results

    finals = asyncio.run(both())
    assert len(calls) == 2
    for city, final in zip(calls, finals, strict=True):
        assert isinstance(final, str) and f"18°C and light rain in {city}" in final


def test_a_streamed_agent_run_on_the_responses_model_ends_too(mock_url: str) -> None:
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return f"sunny in {city}"

    client = AsyncOpenAI(base_url=f"{mock_url}/v1", api_key="sk-agents", max_retries=0)
    agent = Agent(
        name="weather",
        tools=[get_weather],
        model=OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client),
    )

    async def run() -> object:
        streamed = Runner.run_streamed(agent, "Weather in Paris?", max_turns=4)
        kinds = [event.type async for event in streamed.stream_events()]
        assert "raw_response_event" in kinds
        return streamed.final_output

    final = asyncio.run(run())
    assert len(calls) == 1 and isinstance(final, str) and "sunny in" in final
