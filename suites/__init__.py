"""The conformance engine behind `relaykit check` and the pytest plugin.

plan.py plans a run within the profile's budget, runner.py runs it through transport.py and
the checks (examples.py, negative.py, properties.py, responses.py, the stream grammars, the
invariants, tasks.py), and record.py holds the run record every report is rendered from.
ARCHITECTURE.md has the map.
"""
