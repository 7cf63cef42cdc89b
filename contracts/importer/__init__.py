"""Import a relay's documents (OpenAPI 3.x, Swagger 2, Apifox, Postman v2.1) as contracts.

``sources`` reads and recognises a document; ``swagger``, ``apifox`` and ``postman`` turn theirs
into the OpenAPI 3 shape; ``openapi`` reads that into ``model.Draft`` operations; ``recognise``
names auth schemes, envelopes and the shipped contracts they match; ``lint`` finds the
document's mistakes; ``write`` writes contract YAML, LINT.md and lint.json. ``run`` ties them.
"""
