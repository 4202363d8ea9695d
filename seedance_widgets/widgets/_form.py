"""The panel's form as pure functions: keyword arguments -> form, form -> request, the error map,
the price of the fields that decide it, model switches, reference tags and why Generate is off.

Nothing here touches a widget, so every rule is testable on its own (`tests/test_form.py`).
"""

from __future__ import annotations

import difflib
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from .._catalog import OPERATIONS, Catalog, ModelSpec
from .._fields import ALIASES, FIELD_OPERATION, OPERATION_INPUTS
from .._pricing import PriceEstimate, estimate_price
from .._request import VideoRequest
from ._protocol import FormState, GenerateState, PriceState, Ref

FORM_DEFAULTS: FormState = {
    "model": "seedance-2.0-fast", "operation": "text-to-video", "prompt": "",
    "resolution": "720p", "duration": 5, "aspect_ratio": "16:9", "output_audio": True,
    "seed": None, "seed_locked": False, "return_last_frame": False, "image_url": "",
    "start_image": "", "end_image": "", "video_url": "", "task_id": "", "references": [],
}
REFERENCE_FIELDS = {"image": "reference_images", "video": "video_urls", "audio": "audio_urls"}
# Where a VideoRequest error is shown in the form.
ERROR_FIELD = {"reference_images": "references", "video_urls": "references",
               "audio_urls": "references", "material_asset_ids": "references",
               "image": "image_url"}
# The inputs each operation shows in the form.
FORM_INPUTS: dict[str, list[str]] = {
    op: (["references"] if op == "reference-to-video" else
         [f for f in fields if f != "image"]) for op, fields in OPERATION_INPUTS.items()}
RESOLUTION_ORDER = ("480p", "720p", "1080p", "4k")
PRICE_FIELDS = ("model", "operation", "resolution", "duration", "aspect_ratio")
_TAG = re.compile(r"@(image|video|audio)(\d+)\b")
Resolve = Callable[[str], str]


def _same(url: str) -> str:
    return url.strip()


def new_key() -> str:
    return secrets.token_hex(4)


# ---------------------------------------------------------------------- kwargs -> form
def form_from_fields(fields: Mapping[str, Any], *, who: str = "SeedancePanel") -> FormState:
    """Request-style keyword arguments as a form; never drops one.

    The operation is implied by the inputs given (as the CLI and the API do); an input that
    does not belong to an explicit operation, or an unknown name, raises naming the field.
    """
    known = set(VideoRequest.model_fields) | set(ALIASES) | {"seed_locked"}
    form: dict[str, Any] = {}
    refs: list[Ref] = []
    inputs: list[str] = []
    for key, value in fields.items():
        if key not in known:
            guess = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            raise TypeError(f"{who} got an unknown request field {key!r}{hint}")
        key = ALIASES.get(key, key)
        if value is None or value == [] or value == "":
            continue
        if key in FIELD_OPERATION:
            inputs.append(key)
        if key in ("reference_images", "video_urls", "audio_urls", "material_asset_ids"):
            kind = {"video_urls": "video", "audio_urls": "audio"}.get(key, "image")
            for item in value:
                url = f"asset://{item}" if key == "material_asset_ids" else str(item)
                refs.append(make_ref(kind, url))
        elif key == "image":
            form["image_url"] = value
        elif key in ("model", "operation", "prompt", "resolution", "aspect_ratio", "image_url",
                     "start_image", "end_image", "video_url", "task_id"):
            form[key] = str(value)
        elif key in ("duration", "seed"):
            form[key] = int(value)
        elif key in ("output_audio", "return_last_frame", "seed_locked"):
            form[key] = bool(value)
        else:
            raise TypeError(f"{who} cannot show the request field {key!r} in its form; build a "
                            "VideoRequest and use the client for it")
    op = form.get("operation")
    implied = {FIELD_OPERATION[f] for f in inputs}
    if op is None and implied:
        if len(implied) > 1:
            raise ValueError(f"{who}: the inputs {', '.join(inputs)} belong to different "
                             f"operations ({', '.join(sorted(implied))}); pass one operation")
        op = form["operation"] = implied.pop()
    for f in inputs:
        if op is not None and FIELD_OPERATION[f] != op:
            raise ValueError(f"{who}: {f} is not an input of {op}; it belongs to "
                             f"{FIELD_OPERATION[f]} (pass operation={FIELD_OPERATION[f]!r} or "
                             f"drop {f})")
    if form.get("seed") is not None and "seed_locked" not in form:
        form["seed_locked"] = True
    if refs:
        form["references"] = refs
    return {**FORM_DEFAULTS, **form}  # type: ignore[typeddict-item]


def make_ref(kind: str, url: str, name: str = "") -> Ref:
    shown = name or url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or url
    return {"key": new_key(), "kind": kind if kind in REFERENCE_FIELDS else "image",
            "url": url, "name": shown}  # type: ignore[typeddict-item]


# ---------------------------------------------------------------------- form -> request
def request_data(form: Mapping[str, Any], resolve: Resolve = _same) -> dict[str, Any]:
    """The create body the form describes (inputs of other operations are left out)."""
    f = {**FORM_DEFAULTS, **form}
    op = f.get("operation") or "text-to-video"
    data: dict[str, Any] = {"model": f.get("model"), "operation": op}
    if f.get("prompt") or op != "video-extension":
        data["prompt"] = f.get("prompt") or ""
    for key in ("resolution", "duration", "aspect_ratio", "output_audio"):
        if f.get(key) not in (None, ""):
            data[key] = f[key]
    if f.get("seed_locked") and f.get("seed") is not None:
        data["seed"] = f["seed"]
    if f.get("return_last_frame"):
        data["return_last_frame"] = True
    for key in FORM_INPUTS.get(op, ()):
        if key != "references" and f.get(key):
            data[key] = resolve(str(f[key]))
    if op == "reference-to-video":
        for ref in f.get("references") or []:
            field = REFERENCE_FIELDS.get(str(ref.get("kind")), "reference_images")
            data.setdefault(field, []).append(resolve(str(ref.get("url", ""))))
    return data


def validate(form: Mapping[str, Any], catalog: Catalog, resolve: Resolve = _same
             ) -> tuple[VideoRequest | None, dict[str, str]]:
    try:
        req = VideoRequest.model_validate(request_data(form, resolve),
                                          context={"catalog": catalog})
    except ValidationError as exc:
        return None, error_map(exc)
    return req, {}


def error_map(exc: ValidationError) -> dict[str, str]:
    """Form field -> message; several errors on one field are joined."""
    out: dict[str, str] = {}
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else "request"
        field = ERROR_FIELD.get(field, field)
        out[field] = f"{out[field]}; {e['msg']}" if field in out else e["msg"]
    return out


def form_from_body(body: Mapping[str, Any]) -> FormState:
    """A request body (re-run, history) as a form: its seed is kept, so locked."""
    return form_from_fields({k: v for k, v in body.items() if k in VideoRequest.model_fields
                             and k in _FORM_KEYS})


_FORM_KEYS = {*FORM_DEFAULTS, "reference_images", "video_urls", "audio_urls",
              "material_asset_ids", "image"}


# ---------------------------------------------------------------------- price
def price_fields_problem(form: Mapping[str, Any], spec: ModelSpec | None) -> str | None:
    """Why the fields that decide the price are not valid, or None."""
    if spec is None:
        return f"model {form.get('model')!r} is not in the catalog"
    op = form.get("operation")
    if op not in spec.operations:
        return f"operation {op!r} is not supported by {spec.id}"
    if form.get("resolution") not in spec.allowed_resolutions(op):
        return f"resolution {form.get('resolution')!r} is not available for {spec.id}"
    if form.get("duration") not in spec.allowed_durations(op):
        return f"duration {form.get('duration')!r} is not available for {spec.id}"
    if form.get("aspect_ratio") not in spec.allowed_aspect_ratios(op):
        return f"aspect ratio {form.get('aspect_ratio')!r} is not available for {spec.id}"
    return None


def estimate(form: Mapping[str, Any], catalog: Catalog, *,
             input_video_seconds: float | None = None) -> PriceEstimate | None:
    """The price of the form whenever the fields that decide it are valid (prompt or inputs
    missing do not hide it). None when one of those fields is invalid."""
    f = {**FORM_DEFAULTS, **form}
    if price_fields_problem(f, catalog.get(str(f["model"]))) is not None:
        return None
    has_video_refs = f["operation"] == "reference-to-video" and any(
        r.get("kind") == "video" for r in f.get("references") or [])
    # Only the priced fields matter here; the full request is validated on its own.
    req = VideoRequest.model_construct(
        model=f["model"], operation=f["operation"], resolution=f["resolution"],
        duration=f["duration"], aspect_ratio=f["aspect_ratio"],
        video_url="https://priced.invalid/v.mp4" if f["operation"] == "video-to-video" else None,
        video_urls=["https://priced.invalid/v.mp4"] if has_video_refs else None)
    return estimate_price(req, catalog=catalog, input_video_seconds=input_video_seconds)


def price_payload(est: PriceEstimate | None, problem: str = "") -> PriceState:
    if est is None:
        return {"label": f"price: {problem}" if problem else "price unknown", "usd": None,
                "tokens": 0, "known": False, "assumptions": []}
    return {"label": est.label(), "usd": est.usd, "tokens": est.tokens, "known": est.known,
            "assumptions": list(est.assumptions)}


# ---------------------------------------------------------------------- switches
def _nearest(value: Any, allowed: tuple[Any, ...], order: tuple[Any, ...] | None = None) -> Any:
    if value in allowed or not allowed:
        return value
    if order is not None and value in order:
        rank = order.index(value)
        ranked = [a for a in allowed if a in order]
        if ranked:
            # Nearest by rank; on a tie the lower (cheaper) one.
            return min(ranked, key=lambda a: (abs(order.index(a) - rank), order.index(a)))
    if isinstance(value, int) and all(isinstance(a, int) for a in allowed):
        real = [a for a in allowed if a > 0] or list(allowed)
        return min(real, key=lambda a: (abs(a - value), a))
    return allowed[0]


def fit_to_model(form: Mapping[str, Any], catalog: Catalog) -> tuple[FormState, list[str]]:
    """Move resolution, duration, aspect ratio and operation to the nearest values the model
    allows, and say what moved (never a silent drop)."""
    f: dict[str, Any] = {**FORM_DEFAULTS, **form}
    spec = catalog.get(str(f["model"]))
    if spec is None:
        return f, []  # type: ignore[return-value]
    notes: list[str] = []
    if f["operation"] not in spec.operations:
        new = spec.operations[0] if spec.operations else f["operation"]
        notes.append(f"{spec.id} has no {f['operation']}: switched to {new}")
        f["operation"] = new
    op = f["operation"]
    for key, allowed, order, label, unit in (
            ("resolution", spec.allowed_resolutions(op), RESOLUTION_ORDER, "resolution", ""),
            ("duration", spec.allowed_durations(op), None, "duration", " s"),
            ("aspect_ratio", spec.allowed_aspect_ratios(op), None, "aspect ratio", "")):
        new = _nearest(f[key], tuple(allowed), order)
        if new != f[key]:
            notes.append(f"{spec.id} {op} has no {label} {f[key]}{unit}: "
                         f"using the nearest, {new}{unit}")
            f[key] = new
    return f, notes  # type: ignore[return-value]


def renumber_tags(prompt: str, old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]
                  ) -> str:
    """Rewrite `@image2`-style tags so each still names the same reference after a reorder or a
    removal. Tags of removed references are left as they are (the prompt is the user's)."""
    def numbering(refs: list[Mapping[str, Any]]) -> dict[str, tuple[str, int]]:
        counts: dict[str, int] = {}
        out = {}
        for r in refs:
            kind = str(r.get("kind"))
            counts[kind] = counts.get(kind, 0) + 1
            out[str(r.get("key") or r.get("url"))] = (kind, counts[kind])
        return out

    before, after = numbering(old), numbering(new)
    mapping = {f"@{k}{n}": "@{}{}".format(*after[key])
               for key, (k, n) in before.items() if key in after}
    if all(src == dst for src, dst in mapping.items()):
        return prompt
    return _TAG.sub(lambda m: mapping.get(m.group(0), m.group(0)), prompt)


# ---------------------------------------------------------------------- Generate
def generate_state(*, form: Mapping[str, Any], errors: Mapping[str, str],
                   price: PriceEstimate | None, cap_usd: float | None, spent_usd: float,
                   busy: bool) -> GenerateState:
    """Whether Generate is on, and the reason shown beside it when it is not."""
    usd = price.usd if price is not None else None
    label = f"Generate · ≈ ${usd:.2f}" if usd is not None else "Generate"
    reason = ""
    if busy:
        reason = "submitting…"
    elif not str(form.get("prompt") or "").strip() and form.get("operation") != "video-extension":
        reason = "write a prompt to generate"
    elif errors:
        field, msg = next(iter(errors.items()))
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        name = field.replace("_", " ")
        # Most rule messages already start with their field; naming it twice reads as a stutter.
        head = msg if msg.lower().startswith((field.lower(), name.lower())) else f"{name}: {msg}"
        reason = f"fix {head}{more}"
    elif cap_usd is not None and usd is None:
        reason = ("the price is unknown offline and a budget is set: no submit without a "
                  "price")
    elif cap_usd is not None and usd is not None and spent_usd + usd > cap_usd + 1e-9:
        left = max(0.0, cap_usd - spent_usd)
        reason = f"over budget: ≈ ${usd:.2f} but ${left:.2f} of ${cap_usd:.2f} left"
    return {"enabled": not reason, "reason": reason, "label": label}


def catalog_payload(catalog: Catalog) -> dict[str, Any]:
    specs = [s for s in (catalog.get(i) for i in catalog.ids()) if s is not None]
    return {"models": [_spec_payload(s) for s in specs], "inputs": FORM_INPUTS}


def _spec_payload(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "resolutions": list(spec.resolutions),
            "durations": list(spec.durations), "aspect_ratios": list(spec.aspect_ratios),
            "operations": [o for o in OPERATIONS if o in spec.operations],
            "prompt_max_characters": spec.prompt_max_characters,
            "references": {"images": spec.references.images, "videos": spec.references.videos,
                           "audios": spec.references.audios, "files": spec.references.files}}
