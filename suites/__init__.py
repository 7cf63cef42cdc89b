"""The conformance engine (issue 4: `relaykit check`), built up piece by piece.

Here so far: outcomes and findings (findings.py), a stream reader with caps and timing
(streams.py), and the OpenAI chat stream grammar (chat_stream.py). Not yet: plan and budget,
target profiles, the runner, the CLI command and the pytest plugin.
"""
