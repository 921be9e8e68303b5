"""Request and response bodies of the HTTP API (pydantic v2), with OpenAPI examples."""
