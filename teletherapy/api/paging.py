"""The paging rules of every list endpoint, read by the views and by the document."""

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# Far beyond any real list, small enough for every database's OFFSET (a BIGINT).
MAX_OFFSET = 10**9
MAX_CURSOR = 16  # characters: base64 of MAX_OFFSET's ten digits
# What an endpoint declares as its paging query parameters (docs.route(..., query=...)).
PAGING = {"limit": f"1..{MAX_LIMIT}", "cursor": "from `next`"}
