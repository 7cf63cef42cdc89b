"""The conformance engine (issue 4: `relaykit check`), built up piece by piece.

Here so far: outcomes and findings (findings.py), a stream reader with caps and timing
(streams.py), the OpenAI chat stream grammar (chat_stream.py), target profiles (profile.py)
and the plan with its budget (plan.py). Not yet: the runner and its checks, the run record,
the CLI command and the pytest plugin.
"""
