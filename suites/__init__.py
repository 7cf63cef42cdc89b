"""The conformance engine and its pytest plugin (issue 4: `relaykit check`). Empty so far."""
