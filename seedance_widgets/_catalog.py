"""The model catalog: what each Seedance 2.0 model accepts.

Validation reads the current catalog instead of constants, so a refresh from
`GET /v1/models/{id}` changes the limits without a code change. The built-in defaults come
from the contract's facts sheet (`seedance-facts.md`) and the Seedance 2.0 origin page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._sizes import ASPECT_RATIOS

OPERATIONS: tuple[str, ...] = (
    "text-to-video",
    "image-to-video",
    "start-end-to-video",
    "reference-to-video",
    "video-to-video",
    "video-extension",
)
DURATIONS: tuple[int, ...] = (-1, *range(4, 16))
PROMPT_MAX_CHARACTERS = 3000
CNY_PER_USD = 6.8


@dataclass(frozen=True)
class ReferenceLimits:
    images: int = 9
    videos: int = 3
    audios: int = 3
    files: int = 12


@dataclass(frozen=True)
class OperationConstraint:
    """Per-operation overrides; an empty tuple means "the model's own list"."""

    operation: str
    allowed_resolutions: tuple[str, ...] = ()
    allowed_durations: tuple[int, ...] = ()
    allowed_aspect_ratios: tuple[str, ...] = ()
    required_selectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    id: str
    resolutions: tuple[str, ...]
    durations: tuple[int, ...] = DURATIONS
    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    operations: tuple[str, ...] = OPERATIONS
    constraints: Mapping[str, OperationConstraint] = field(default_factory=dict)
    prompt_max_characters: int = PROMPT_MAX_CHARACTERS
    references: ReferenceLimits = ReferenceLimits()
    # The contract's cancel route names seedance-2.0 and -fast only.
    cancellable: bool = True
    # Official CNY per million tokens (without, with video input); None = not published.
    cny_per_million: tuple[float, float] | None = None
    source: str = "built-in defaults (seedance-facts.md)"

    def allowed_resolutions(self, operation: str | None) -> tuple[str, ...]:
        c = self.constraints.get(operation or "")
        return c.allowed_resolutions if c and c.allowed_resolutions else self.resolutions

    def allowed_durations(self, operation: str | None) -> tuple[int, ...]:
        c = self.constraints.get(operation or "")
        return c.allowed_durations if c and c.allowed_durations else self.durations

    def allowed_aspect_ratios(self, operation: str | None) -> tuple[str, ...]:
        c = self.constraints.get(operation or "")
        return c.allowed_aspect_ratios if c and c.allowed_aspect_ratios else self.aspect_ratios

    def usd_per_million(self, *, with_video: bool) -> float | None:
        if self.cny_per_million is None:
            return None
        return self.cny_per_million[1 if with_video else 0] / CNY_PER_USD


DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("seedance-2.0", resolutions=("480p", "720p", "1080p", "4k"),
              cny_per_million=(46, 28)),
    ModelSpec("seedance-2.0-fast", resolutions=("480p", "720p"), cny_per_million=(37, 22)),
    # Mini: no public price and no cancellation in the contract; limits "from the model detail".
    ModelSpec("seedance-2.0-mini", resolutions=("480p", "720p"), cancellable=False),
)


def _strings(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def _ints(values: Iterable[Any] | None) -> tuple[int, ...]:
    out: list[int] = []
    for v in values or ():
        try:
            out.append(int(str(v).strip().removesuffix("s")))
        except ValueError:
            continue  # labels such as "auto" carry no number to validate against
    return tuple(out)


def parse_model_detail(detail: Mapping[str, Any], base: ModelSpec | None = None) -> ModelSpec:
    """Build a ModelSpec from the `GET /v1/models/{id}` body.

    Fields the detail leaves out keep the value of `base` (the built-in default), so a sparse
    answer never widens a limit by accident.
    """
    model_id = str(detail["id"])
    ext = detail.get("tokenlab") or {}
    summary = ext.get("request_format_summary") or {}
    spec = base or ModelSpec(model_id, resolutions=("480p", "720p"))
    changes: dict[str, Any] = {"id": model_id, "source": "GET /v1/models/" + model_id}
    if summary.get("resolutions"):
        changes["resolutions"] = _strings(summary["resolutions"])
    if summary.get("durations"):
        changes["durations"] = _ints(summary["durations"]) or spec.durations
    if summary.get("aspect_ratios"):
        changes["aspect_ratios"] = _strings(summary["aspect_ratios"])
    ops = summary.get("public_operations") or ext.get("supported_operations")
    if ops:
        changes["operations"] = _strings(ops)
    limits = summary.get("service_limits") or {}
    if limits.get("prompt_max_characters"):
        changes["prompt_max_characters"] = int(limits["prompt_max_characters"])
    constraints = {}
    for c in summary.get("operation_constraints") or ():
        if not c.get("operation"):
            continue
        constraints[c["operation"]] = OperationConstraint(
            operation=c["operation"],
            allowed_resolutions=_strings(c.get("allowed_resolutions")),
            allowed_durations=_ints(c.get("allowed_durations")),
            allowed_aspect_ratios=_strings(c.get("allowed_aspect_ratios")),
            required_selectors=_strings(c.get("required_selectors")),
        )
    if constraints:
        changes["constraints"] = constraints
    refs = summary.get("reference_limits")  # a TokenLab extension field, when present
    if isinstance(refs, Mapping):
        changes["references"] = ReferenceLimits(
            **{k: int(v) for k, v in refs.items() if k in ("images", "videos", "audios", "files")}
        )
    flags = summary.get("feature_flags") or {}
    if "cancellation" in flags:
        changes["cancellable"] = bool(flags["cancellation"])
    return replace(spec, **changes)


class Catalog:
    """A thread-safe mapping of model id to ModelSpec; widgets and clients share one."""

    def __init__(self, models: Iterable[ModelSpec] = DEFAULT_MODELS) -> None:
        self._lock = threading.Lock()
        self._models = {m.id: m for m in models}

    def get(self, model_id: str) -> ModelSpec | None:
        with self._lock:
            return self._models.get(model_id)

    def ids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._models)

    def update(self, spec: ModelSpec) -> ModelSpec:
        with self._lock:
            self._models[spec.id] = spec
        return spec

    def update_from_detail(self, detail: Mapping[str, Any]) -> ModelSpec:
        return self.update(parse_model_detail(detail, self.get(str(detail["id"]))))

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def __repr__(self) -> str:
        return f"Catalog({', '.join(self.ids())})"


_default = Catalog()


def default_catalog() -> Catalog:
    return _default
