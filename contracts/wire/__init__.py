"""Wire knowledge, written once: server-sent events (``sse``), media types (``mediatype``) and
how an API key is presented (``auth``).

These modules import nothing of relaykit (not even the rest of ``contracts``), so every room may
import them: the mock writes streams and reads keys with them, the suites and the forwarding
servers read streams and mask keys with them.
"""
