"""relaykit: contract tests, a living mock and conformance reports for OpenAI-compatible relays."""

__version__ = "0.1.0"
