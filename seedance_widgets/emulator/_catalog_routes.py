"""Bodies of the discovery routes (`/v1/models...`, `/v1/pricing`), built from the Catalog.

The emulator describes exactly the limits its own validation enforces: every figure here comes
from a `ModelSpec`, and the model detail is shaped so that `parse_model_detail` reads the same
spec back. USD prices are the official CNY prices divided by 6.8, as TokenLab documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .._catalog import CNY_PER_USD, Catalog, ModelSpec
from .._fields import OPERATION_INPUTS
from .._request import VideoRequest
from ._errors import bad_request, fail

OWNER = "bytedance"
ENDPOINT = "/v1/videos/generations"
# A fixed listing date: the emulator has no release history and tests want stable bodies.
LISTED_AT = 1767225600  # 2026-01-01T00:00:00Z
PRICING_UNIT = "1M tokens"
TOKEN_FORMULA = "(input video seconds + output seconds) x width x height x 24 / 1024"
CATEGORIES = ("chat", "embedding", "translation", "image", "video", "audio", "tts", "stt",
              "rerank", "3d", "music")
SELECTORS = ["resolution", "duration", "aspect_ratio"]
# Inputs a model detail documents per operation; the prompt is optional only for extensions.
_DOCUMENTED_INPUTS = {op: ["prompt", *fields] for op, fields in OPERATION_INPUTS.items()}


def _lifecycle() -> dict[str, Any]:
    return {
        "stage": "active", "reason": None, "replacement_model": None, "released_at": None,
        "deprecated_at": None, "retired_at": None, "sunset_at": None, "latest": True,
        "latest_source": "none", "latest_window_days": None,
    }


def _commercial() -> dict[str, Any]:
    return {"user_charge_policy": "paid", "free_reason": None, "free_until": None}


def _capabilities(spec: ModelSpec) -> list[str]:
    return ["video-generation", *spec.operations]


def _usd(spec: ModelSpec, *, with_video: bool) -> float | None:
    rate = spec.usd_per_million(with_video=with_video)
    return None if rate is None else round(rate, 6)


def _usd_text(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"


def pricing_summary(spec: ModelSpec) -> dict[str, Any]:
    without, with_video = _usd(spec, with_video=False), _usd(spec, with_video=True)
    note = (
        f"Token based. USD converted from the official CNY price at {CNY_PER_USD} CNY per USD; "
        "requests with video input use the lower with-video rate and a minimum charge."
        if without is not None else
        f"{spec.id} has no published price yet; figures are null until TokenLab lists one."
    )
    return {
        "currency": "USD",
        "unit": PRICING_UNIT,
        "usd_per_1m_tokens": without,
        "usd_per_1m_tokens_with_video_input": with_video,
        "token_formula": TOKEN_FORMULA,
        "charged_on": "successful generations only",
        "note": note,
    }


def pricing_provenance(spec: ModelSpec) -> dict[str, Any]:
    cny = spec.cny_per_million
    return {
        "source": "official CNY price per 1M tokens" if cny else "not published",
        "cny_per_1m_tokens": cny[0] if cny else None,
        "cny_per_1m_tokens_with_video_input": cny[1] if cny else None,
        "cny_per_usd": CNY_PER_USD,
    }


def _list_pricing(spec: ModelSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"unit": PRICING_UNIT, "currency": "USD", "has_complex_pricing": True}
    text = _usd_text(_usd(spec, with_video=False))
    if text is not None:
        out["output_per_1m"] = text  # video tokens are output tokens
    return out


def _endpoints(spec: ModelSpec) -> dict[str, str | None]:
    return dict.fromkeys(spec.operations, ENDPOINT)


# ---------------------------------------------------------------------- /v1/models
def _list_item(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.id, "object": "model", "created": LISTED_AT, "owned_by": OWNER,
        "tokenlab": {
            "aliases": [],
            "pricing": _list_pricing(spec),
            "capabilities": _capabilities(spec),
            "providers": [OWNER],
            "max_input_tokens": None,
            "max_output_tokens": None,
            "category": "video",
            "pricing_unit": PRICING_UNIT,
            "has_complex_pricing": True,
            "pricing_summary": pricing_summary(spec),
            "lifecycle": _lifecycle(),
            "commercial": _commercial(),
            "badges": [],
            "request_format_summary": {
                "public_operations": list(spec.operations),
                "request_endpoint": ENDPOINT,
                "request_endpoint_by_operation": _endpoints(spec),
            },
        },
    }


def _compact_item(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.id, "provider": OWNER, "category": "video",
        "capabilities": _capabilities(spec), "max_input_tokens": None, "max_output_tokens": None,
        "pricing": _list_pricing(spec), "status": "active", "latest": True,
        "supported_operations": list(spec.operations), "request_endpoint": ENDPOINT,
    }


def _specs(catalog: Catalog) -> list[ModelSpec]:
    return [s for s in (catalog.get(m) for m in catalog.ids()) if s is not None]


def _filtered(catalog: Catalog, query: Mapping[str, str]) -> list[ModelSpec]:
    specs = _specs(catalog)
    if query.get("provider") and query["provider"].lower() != OWNER:
        return []
    if query.get("tag"):
        specs = [s for s in specs if query["tag"] in _capabilities(s)]
    return specs


def list_models(catalog: Catalog, query: Mapping[str, str]) -> dict[str, Any]:
    """`ModelsResponse`, or `CompactModelsResponse` for `?view=compact`."""
    view = query.get("view") or "full"
    if view not in ("full", "compact"):
        raise bad_request(f"view: {view!r} is not one of compact, full", param="view",
                          code="invalid_value")
    for name in ("category", "recommended_for"):
        value = query.get(name)
        if value and value not in CATEGORIES:
            raise bad_request(f"{name}: {value!r} is not a known category", param=name,
                              code="invalid_value")
    specs = _filtered(catalog, query)
    if query.get("category") not in (None, "", "video"):
        specs = []  # the emulator only knows video models
    if view == "compact":
        items = [_compact_item(s) for s in specs]
        return {"object": "list", "view": "compact", "count": len(items), "data": items}
    return {"object": "list", "data": [_list_item(s) for s in specs]}


def _spec_or_404(catalog: Catalog, model_id: str) -> ModelSpec:
    spec = catalog.get(model_id)
    if spec is None:
        raise fail(404, "model_not_found", f"Model {model_id!r} not found",
                   code="model_not_found", param="model",
                   suggestions=[{"id": m} for m in catalog.ids()])
    return spec


def _constraint(spec: ModelSpec, op: str) -> dict[str, Any]:
    own = spec.constraints.get(op)
    return {
        "operation": op,
        "request_endpoint": ENDPOINT,
        "required_selectors": list(own.required_selectors) if own else [],
        "optional_selectors": SELECTORS,
        "documented_inputs": _DOCUMENTED_INPUTS.get(op, ["prompt"]),
        "allowed_resolutions": list(spec.allowed_resolutions(op)),
        "allowed_durations": [str(d) for d in spec.allowed_durations(op)],
        "allowed_aspect_ratios": list(spec.allowed_aspect_ratios(op)),
    }


def _durations_label(spec: ModelSpec) -> str | None:
    whole = [d for d in spec.durations if d > 0]
    if not whole:
        return None
    label = f"{min(whole)}-{max(whole)} s"
    return label + (", or -1 (model chooses)" if -1 in spec.durations else "")


def model_detail(catalog: Catalog, model_id: str) -> dict[str, Any]:
    """The `Model` detail body; `parse_model_detail` reads the same limits back."""
    spec = _spec_or_404(catalog, model_id)
    refs = spec.references
    summary: dict[str, Any] = {
        "public_operations": list(spec.operations),
        "supported_parameters": [f for f in VideoRequest.model_fields if f != "model"],
        "feature_flags": {"cancellation": spec.cancellable, "return_last_frame": True,
                          "output_audio": True},
        "output_formats": ["mp4"],
        "service_limits": {"online_rpm": None, "concurrency": None,
                           "prompt_max_characters": spec.prompt_max_characters},
        "required_selectors": [],
        "optional_selectors": SELECTORS,
        "resolutions": list(spec.resolutions),
        "durations": [str(d) for d in spec.durations],
        "durations_label": _durations_label(spec),
        "aspect_ratios": list(spec.aspect_ratios),
        "request_endpoint": ENDPOINT,
        "status_mode": "async_task",
        "request_endpoint_by_operation": _endpoints(spec),
        "operation_constraints": [_constraint(spec, op) for op in spec.operations],
        # TokenLab extension (the summary allows extra fields): reference-to-video limits.
        "reference_limits": {"images": refs.images, "videos": refs.videos,
                             "audios": refs.audios, "files": refs.files},
    }
    # The detail is the list item with detail-only fields added and the full summary.
    item = _list_item(spec)
    item["tokenlab"].update({
        "supported_operations": list(spec.operations),
        "pricing_provenance": pricing_provenance(spec),
        "request_format_summary": summary,
        "accepted_request_formats": [],
    })
    return item


# ---------------------------------------------------------------------- pricing
def model_pricing(catalog: Catalog, model_id: str) -> dict[str, Any]:
    """`ModelPricingResponse` for one model."""
    spec = _spec_or_404(catalog, model_id)
    return {
        "model": spec.id,
        "pricing_unit": PRICING_UNIT,
        "has_complex_pricing": True,
        "supported_operations": list(spec.operations),
        "pricing_summary": pricing_summary(spec),
        "pricing_provenance": pricing_provenance(spec),
        "pricing_details": None,
    }


def pricing_list(catalog: Catalog, query: Mapping[str, str]) -> dict[str, Any]:
    """`PricingResponse` over every model (filters: provider, tag)."""
    data = [
        {
            "model": s.id, "provider": OWNER, "is_lock_price": False,
            "capabilities": _capabilities(s), "aliases": [],
            "input_per_1m_tokens": None,
            "output_per_1m_tokens": _usd_text(_usd(s, with_video=False)),
            "lock_price_per_request": None,
            "has_complex_pricing": True,
            "supported_operations": list(s.operations),
            "pricing_summary": pricing_summary(s),
            "pricing_provenance": pricing_provenance(s),
        }
        for s in _filtered(catalog, query)
    ]
    updated = datetime.fromtimestamp(LISTED_AT, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"object": "pricing", "updated_at": updated, "currency": "USD", "data": data}
