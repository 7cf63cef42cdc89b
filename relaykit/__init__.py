"""relaykit: contract tests, a living mock and conformance reports for OpenAI-compatible relays."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("relaykit")
    """The installed distribution's version: written once, in pyproject.toml."""
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
