"""Error bodies in the contract's shapes (`ApiError`, `ValidationError`) and the exception that
carries one from deep in a route up to the handler."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .._catalog import Catalog
from .._fields import inferred_operation


class ApiFailure(Exception):
    """An HTTP error answer: raised anywhere below the handler, written by the handler."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body['error'].get('type')}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def api_error(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    """`{"error": {"message", "type", ...}}`; None-valued extras are left out."""
    return {"error": {"message": message, "type": kind,
                      **{k: v for k, v in extra.items() if v is not None}}}


def fail(status: int, kind: str, message: str, **extra: Any) -> ApiFailure:
    return ApiFailure(status, api_error(kind, message, **extra))


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) if loc else "request"


def _operation_of(body: Mapping[str, Any]) -> str:
    # The hints must describe the operation the request was going to run, which validation may
    # never have reached.
    if isinstance(body.get("operation"), str):
        return body["operation"]
    return inferred_operation(body)


def validation_failure(
    err: ValidationError, body: Mapping[str, Any], catalog: Catalog
) -> ApiFailure:
    """400 `ValidationError` body for a refused create: the first problem in `message`,
    every problem in `validation_errors`, and the allowed values the client needs to fix it."""
    problems = err.errors(include_url=False)
    items = [
        {"field": _field(p["loc"]), "message": p["msg"], "code": p["type"]} for p in problems
    ]
    first = items[0]
    params = {str(p["loc"][0]) for p in problems if p["loc"]}
    model = body.get("model") if isinstance(body.get("model"), str) else None
    spec = catalog.get(model) if model else None
    extra: dict[str, Any] = {
        "code": first["code"],
        "param": str(problems[0]["loc"][0]) if problems[0]["loc"] else None,
        "model": model,
    }
    kind = "invalid_request_error"
    if "unknown_model" in {p["type"] for p in problems}:
        kind = "model_not_found"
        guess = difflib.get_close_matches(model or "", catalog.ids(), n=1, cutoff=0.5)
        extra["did_you_mean"] = guess[0] if guess else None
        extra["suggestions"] = [{"id": mid} for mid in catalog.ids()]
    if spec is not None:
        op = _operation_of(body)
        op = op if op in spec.operations else None
        if "resolution" in params:
            extra["allowed_resolutions"] = list(spec.allowed_resolutions(op))
        if "duration" in params or "seconds" in params:
            extra["allowed_durations"] = [str(d) for d in spec.allowed_durations(op)]
        if "aspect_ratio" in params or "ratio" in params:
            extra["allowed_aspect_ratios"] = list(spec.allowed_aspect_ratios(op))
        if "operation" in params:
            extra["supported_operations"] = list(spec.operations)
        if "prompt" in params:
            extra["prompt_max_characters"] = spec.prompt_max_characters
    out = api_error(kind, f"{first['field']}: {first['message']}", **extra)
    out["validation_errors"] = items
    return ApiFailure(400, out)


def bad_request(message: str, param: str | None = None, code: str | None = None,
                **extra: Any) -> ApiFailure:
    """A 400 that is not a field-by-field validation failure (bad JSON, a stale task_id)."""
    out = api_error("invalid_request_error", message, code=code, param=param, **extra)
    if param:
        out["validation_errors"] = [{"field": param, "message": message,
                                     **({"code": code} if code else {})}]
    return ApiFailure(400, out)


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body parsed as a JSON object, or the 400 that says why it is not one."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"request body is not valid JSON: {exc}", code="invalid_json") \
            from None
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object", code="invalid_json")
    return data
