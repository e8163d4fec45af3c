"""OpenAPI 3.1 document assembled from the pydantic models that validate requests.

pydantic emits JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect, so the
document is generated from the validating schemas themselves (docs/api.md says why
no framework sits in between: the contract's order of checks puts 404 before 422).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from ..models import MODALITIES
from ..research.export import SHAPES
from ..research.filters import INSTRUMENT_ID, THERAPIST_PID
from .paging import DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT
from .schemas import ErrorOut


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False
    query: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


OPERATIONS: list[Operation] = []
V = TypeVar("V", bound=Callable[..., Any])
DESCRIPTIONS = {
    400: "Body is not a JSON object",
    401: "Not authenticated",
    403: "Forbidden for this role",
    404: "Not found, or not yours",
    409: "Conflict with the record's state",
    410: "Gone: the window has closed",
    413: "Body too large",
    422: "Invalid fields; details maps each field to a message",
    429: "Rate limited; see Retry-After",
}


# The schema of each query parameter, by name (the views parse them with the same
# rules: api.page_args, research.filters, research.export.parse_shape). An
# empty research filter is no filter, as the researchers' page form sends it.
_DATE = {"anyOf": [{"format": "date"}, {"maxLength": 0}]}
QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_LIMIT,
        "default": DEFAULT_LIMIT,
    },
    "cursor": {
        "type": "string",
        "maxLength": MAX_CURSOR,
        "pattern": "^[A-Za-z0-9_-]*=*$",
    },
    "modality": {"type": "string", "enum": [*MODALITIES, ""]},
    "instrument": {"type": "string", "pattern": f"^({INSTRUMENT_ID.pattern})?$"},
    "from": {"type": "string", **_DATE},
    "to": {"type": "string", **_DATE},
    "therapist": {"type": "string", "pattern": f"^({THERAPIST_PID.pattern})?$"},
    "shape": {"type": "string", "enum": [*SHAPES, ""], "default": "wide"},
}


def route(bp: Blueprint, method: str, rule: str, **kwargs: Any) -> Callable[[V], V]:
    """Register a view on ``bp`` and record its operation for the document.

    The method and the Flask rule are written once: the document's path is the rule
    with ``<name>`` (or ``<converter:name>``) spelled ``{name}``; ``kwargs`` are the
    rest of ``Operation`` (summary, body, response, status, errors, public, query,
    content_type). Operations appear in the document in the order they are declared.
    """
    path = _RULE_PARAMETER.sub(r"{\1}", rule)
    OPERATIONS.append(Operation(method=method, path=path, **kwargs))

    def wrap(view: V) -> V:
        bp.route(rule, methods=[method])(view)
        return view

    return wrap


_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def build(server_url: str = "/api/v1") -> dict[str, Any]:
    models = {m for op in OPERATIONS for m in (op.body, op.response) if m} | {ErrorOut}
    keyed: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "validation") for m in sorted(models, key=lambda m: m.__name__)
    ]
    _, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Teletherapy API", "version": "1.0.0"},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"summary": op.summary, "responses": {}}
    if op.public:
        doc["security"] = []
    params = [_path_param(p) for p in _path_params(op.path)]
    params += [
        {
            "name": n,
            "in": "query",
            "required": False,
            "schema": QUERY_SCHEMAS.get(n, {"type": "string"}),
            "description": d,
        }
        for n, d in op.query.items()
    ]
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {op.content_type: {"schema": _ref(op.response)}}
    elif op.content_type != "application/json":
        ok["content"] = {op.content_type: {"schema": {"type": "string"}}}
    doc["responses"][str(op.status)] = ok
    errors = set(op.errors) | ({401} if not op.public else set())
    for status in sorted(errors):
        doc["responses"][str(status)] = {
            "description": DESCRIPTIONS[status],
            "content": {"application/json": {"schema": _ref(ErrorOut)}},
        }
    return doc


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
