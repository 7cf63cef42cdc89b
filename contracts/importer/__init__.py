"""Import a relay's documents (OpenAPI 3.x, Swagger 2, Apifox, Postman v2.1) as contracts.

``sources`` reads and recognises a document; ``swagger``, ``apifox`` and ``postman`` turn theirs
into the OpenAPI 3 shape; ``openapi`` reads that into ``model.Draft`` operations (``refs``
inlines references, ``dialect`` reads 3.0 keywords, ``codesamples`` and ``modes`` add examples
written as text and split relaykit's merged operations); ``lint`` finds the document's
mistakes; ``complete`` and ``synth`` make the examples it lacks; ``recognise`` names auth
schemes, envelopes and the shipped contracts an operation matches; ``write`` writes contract
YAML, LINT.md and lint.json. ``run`` ties them together. Nothing here imports the mock or the
suites: like the rest of ``contracts``, it is imported, never importing.
"""
