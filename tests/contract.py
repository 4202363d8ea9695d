"""Validate JSON against the TokenLab contract's component schemas.

The contract is vendored in tests/contract/ so a fresh clone can run the suite anywhere;
test_contract_copy checks it matches ../shared/contract when that exists.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTRACT = Path(__file__).parent / "contract" / "tokenlab-openapi-video.json"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "contract" / CONTRACT.name
URI = "urn:tokenlab-openapi"


@functools.cache
def document() -> dict[str, Any]:
    return _nullable(json.loads(CONTRACT.read_text()))


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` spelled as JSON Schema: null joins the type (and enum).

    The validator speaks JSON Schema 2020-12, which has no `nullable`; without this, the
    contract's own examples (`"error_message": null`) would fail their schemas."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource(document(), specification=DRAFT202012))


def validator(schema: str) -> Draft202012Validator:
    ref = {"$ref": f"{URI}#/components/schemas/{schema}"}
    return Draft202012Validator(ref, registry=_registry())


def check(schema: str, instance: Any) -> None:
    """Raise AssertionError listing every place `instance` breaks `schema`."""
    errors = sorted(validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:10]]
        raise AssertionError(f"{schema} violated:\n" + "\n".join(lines))


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema of one documented response, resolving components/responses refs."""
    doc = document()
    resp = doc["paths"][path][method]["responses"][str(status)]
    if "$ref" in resp:
        resp = doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    return resp["content"]["application/json"]["schema"]


def check_response(path: str, method: str, status: int, body: Any) -> None:
    schema = response_schema(path, method, status)
    v = Draft202012Validator({**schema, "$id": "urn:inline"}, registry=_registry())
    # Local refs in the inline schema point into the contract document.
    if "$ref" in schema:
        v = Draft202012Validator({"$ref": URI + schema["$ref"]}, registry=_registry())
    elif "oneOf" in schema:
        v = Draft202012Validator(
            {"oneOf": [{"$ref": URI + s["$ref"]} for s in schema["oneOf"]]}, registry=_registry()
        )
    errors = list(v.iter_errors(body))
    if errors:
        raise AssertionError(
            f"{method.upper()} {path} {status} violated:\n"
            + "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:10])
        )
