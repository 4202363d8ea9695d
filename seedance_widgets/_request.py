"""`VideoRequest`: the body of `POST /v1/videos/generations` for the Seedance 2.0 family.

Every rule here is fail-closed: a request the contract does not clearly allow is refused before
any money is spent. Each refusal is a `pydantic.ValidationError` whose line is located at the
offending field and whose message names the field (once) and lists what is allowed, so the
panel can show it beside the right control and the CLI can print it as it is.

Text is checked as a person would read it: a prompt needs 2 visible characters (zero-width
spaces, fillers and control characters do not count, and control characters are refused), every
string must be encodable (no lone surrogates), URLs and ids are matched whole (a trailing newline
is refused), whole-number fields refuse bools, fractions and absurd magnitudes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from ._catalog import Catalog, ModelSpec, default_catalog
from ._fields import (
    ALIASES,
    FIELD_OPERATION,
    INPUT_FIELDS,
    NOT_FOR_SEEDANCE,
    OPERATION_INPUTS,
    SERVICE_TIERS,
    inferred_operation,
)
from ._inputs import (
    PROMPT_CONTROLS_OK,
    PROMPT_MIN_VISIBLE,
    WHOLE_NUMBER_RANGES,
    control_problem,
    encoding_problem,
    err,
    error_lines,
    listed,
    raise_all,
    reference_count_problems,
    short,
    shown,
    url_problem,
    visible_count,
    whole_number,
    with_named_fields,
)


class VideoRequest(BaseModel):
    """A validated Seedance 2.0 create request.

    Build it with keyword arguments or `VideoRequest.model_validate(dict)`; aliases (`ratio`,
    `seconds`, `generate_audio`, `outputAudio`) are accepted and folded into canonical names.
    `to_body()` gives the exact JSON sent to the API. Validation reads the shared catalog, or
    the one passed as `model_validate(data, context={"catalog": catalog})`.
    """

    # Built on first use, not at import: `import seedance_widgets` (the CLI's `tasks`, scripts
    # that only read the history) need not pay for the validator of every rule.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False,
                              defer_build=True)

    model: str
    operation: str | None = None
    prompt: str | None = None
    image_url: str | None = None
    image: str | None = None
    start_image: str | None = None
    end_image: str | None = None
    reference_images: list[str] | None = None
    material_asset_ids: list[str] | None = None
    video_urls: list[str] | None = None
    audio_urls: list[str] | None = None
    video_url: str | None = None
    task_id: str | None = None
    duration: int | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    output_audio: bool | None = None
    seed: int | None = None
    watermark: bool | None = None
    return_last_frame: bool | None = None
    user: str | None = None
    safety_identifier: str | None = Field(default=None, max_length=128)
    execution_expires_after: int | None = None
    priority: int | None = None
    service_tier: str | None = None

    # ------------------------------------------------------------------ every error names its field
    @model_validator(mode="wrap")
    @classmethod
    def _name_fields(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise with_named_fields(exc) from None

    @field_validator(*WHOLE_NUMBER_RANGES, mode="before")
    @classmethod
    def _whole_numbers(cls, value: Any, info: ValidationInfo) -> int | None:
        return whole_number(str(info.field_name), value)

    # ------------------------------------------------------------------ before: shape
    @model_validator(mode="before")
    @classmethod
    def _fold_aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        errors: list[InitErrorDetails] = []
        known = set(cls.model_fields)
        for key in list(data):
            if key in known:
                continue
            if key in ALIASES:
                canonical = ALIASES[key]
                value = data.pop(key)
                if canonical in data and data[canonical] != value:
                    errors.append(err(
                        key, "alias_mismatch",
                        f"{key} ({shown(value)}) and {canonical} ({shown(data[canonical])}) "
                        f"must match; send only {canonical}",
                        value,
                    ))
                else:
                    data[canonical] = value
            elif key in NOT_FOR_SEEDANCE:
                errors.append(err(
                    key, "unsupported_field",
                    f"{key} is not accepted for Seedance 2.0: {NOT_FOR_SEEDANCE[key]}",
                    data[key],
                ))
            else:
                guess = difflib.get_close_matches(key, [*known, *ALIASES], n=1, cutoff=0.6)
                hint = f"; did you mean {guess[0]!r}?" if guess else ""
                errors.append(err(
                    key, "unknown_field",
                    f"{key} is not a field of the Seedance 2.0 request{hint}",
                    data[key],
                ))
        raise_all(errors)
        return data

    # ------------------------------------------------------------------ after: rules
    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> VideoRequest:
        catalog: Catalog = (info.context or {}).get("catalog") or default_catalog()
        errors = self._check_text()
        raise_all(errors)  # later messages quote these values: they must be printable first
        spec = catalog.get(self.model)
        if spec is None:
            guess = difflib.get_close_matches(self.model, catalog.ids(), n=1, cutoff=0.5)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            errors.append(err(
                "model", "unknown_model",
                f"model {self.model!r} is not in the catalog; allowed: {listed(catalog.ids())}"
                f"{hint}",
                self.model,
            ))
            raise_all(errors)
            return self
        # The API infers the operation when omitted; we do the same, then send it explicitly
        # so the server never guesses differently from the price we showed.
        operation = self.operation or inferred_operation(
            {f: getattr(self, f) for f in INPUT_FIELDS})
        if operation not in spec.operations:
            errors.append(err(
                "operation", "unsupported_operation",
                f"operation {operation!r} is not supported by {spec.id}; "
                f"allowed: {listed(spec.operations)}",
                operation,
            ))
            raise_all(errors)
        if self.operation is None:
            object.__setattr__(self, "operation", operation)
        errors += self._check_selectors(spec, operation)
        errors += self._check_prompt(spec, operation)
        errors += self._check_inputs(spec, operation)
        errors += self._check_service(spec)
        raise_all(errors)
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _checked_once(cls, data: Any, handler: Any) -> Any:
        # A VideoRequest is frozen and was checked when it was built, but pydantic runs the
        # after-validators again whenever another model is given one: a Task takes its request
        # on every status poll. Defined after `_check_rules`, so it wraps it.
        return data if isinstance(data, cls) else handler(data)

    def _check_text(self) -> list[InitErrorDetails]:
        """Every string encodable; no control characters outside the prompt's line breaks."""
        errors = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            items = value if isinstance(value, list) else [value]
            for item in items:
                if not isinstance(item, str):
                    continue
                problem = encoding_problem(name, item) or control_problem(
                    name, item, PROMPT_CONTROLS_OK if name == "prompt" else frozenset())
                if problem:
                    errors.append(err(name, "unreadable_text", problem, short(item)))
                    break
        return errors

    def _check_selectors(self, spec: ModelSpec, op: str) -> list[InitErrorDetails]:
        errors = []
        allowed_res = spec.allowed_resolutions(op)
        if self.resolution is not None and self.resolution not in allowed_res:
            errors.append(err(
                "resolution", "resolution_not_allowed",
                f"resolution {self.resolution!r} is not available for {spec.id} {op}; "
                f"allowed: {listed(allowed_res)}",
                self.resolution,
            ))
        allowed_dur = spec.allowed_durations(op)
        if self.duration is not None and self.duration not in allowed_dur:
            whole = [d for d in allowed_dur if d > 0]
            span = f"{min(whole)}-{max(whole)} whole seconds" if whole else ""
            extra = " or -1 (model chooses)" if -1 in allowed_dur else ""
            errors.append(err(
                "duration", "duration_not_allowed",
                f"duration {self.duration!r} is not allowed for {spec.id}; allowed: {span}{extra}",
                self.duration,
            ))
        allowed_ar = spec.allowed_aspect_ratios(op)
        if self.aspect_ratio is not None and self.aspect_ratio not in allowed_ar:
            errors.append(err(
                "aspect_ratio", "aspect_ratio_not_allowed",
                f"aspect_ratio {self.aspect_ratio!r} is not allowed; allowed: {listed(allowed_ar)}",
                self.aspect_ratio,
            ))
        return errors

    def _check_prompt(self, spec: ModelSpec, op: str) -> list[InitErrorDetails]:
        if self.prompt is None:
            if op == "video-extension":
                return []
            return [err("prompt", "prompt_required",
                         f"prompt is required for {op}; write what the video should show", None)]
        visible = visible_count(self.prompt)
        if visible == 0:
            return [err("prompt", "prompt_blank",
                         "prompt is blank: it has no visible characters", short(self.prompt))]
        if visible < PROMPT_MIN_VISIBLE:
            return [err("prompt", "prompt_too_short",
                         f"prompt is too short: write at least {PROMPT_MIN_VISIBLE} visible "
                         "characters", short(self.prompt))]
        if len(self.prompt) > spec.prompt_max_characters:
            return [err(
                "prompt", "prompt_too_long",
                f"prompt has {len(self.prompt)} characters; {spec.id} allows at most "
                f"{spec.prompt_max_characters}",
                short(self.prompt),
            )]
        return []

    def _check_inputs(self, spec: ModelSpec, op: str) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        own = OPERATION_INPUTS.get(op, ())
        for f in INPUT_FIELDS:
            value = getattr(self, f)
            if value is None or f in own:
                continue
            if op == "reference-to-video" and f in ("image_url", "image", "start_image",
                                                    "end_image"):
                why = (f"{f} cannot be combined with reference images (first/last-frame "
                       "images and references do not mix); put every image in reference_images")
            else:
                why = (f"{f} belongs to {FIELD_OPERATION[f]}; {op} takes "
                       f"{listed(own) if own else 'the prompt only'}")
            errors.append(err(f, "input_not_for_operation", why, value))
        for f in own:
            value = getattr(self, f)
            if value == []:
                errors.append(err(f, "empty_list", f"{f} is empty; leave it out or add items",
                                   value))
        errors += self._check_urls()
        if op == "image-to-video":
            if (self.image_url is None) == (self.image is None):
                both = self.image_url is not None
                errors.append(err(
                    "image_url", "first_frame_count",
                    "image_url: image-to-video needs exactly one first-frame image: "
                    + ("give image_url or image, not both" if both
                       else "set image_url (http(s), data:image or asset:// URL)"),
                    short(self.image_url),
                ))
        elif op == "start-end-to-video":
            for f in ("start_image", "end_image"):
                if getattr(self, f) is None:
                    errors.append(err(f, "missing_input",
                                       f"{f} is required for start-end-to-video", None))
        elif op == "reference-to-video":
            errors += self._check_reference_counts(spec)
        elif op == "video-to-video" and self.video_url is None:
            errors.append(err("video_url", "missing_input",
                               "video_url is required for video-to-video", None))
        elif op == "video-extension" and not (self.task_id or "").strip():
            errors.append(err("task_id", "missing_input",
                               "task_id of an earlier task is required for video-extension",
                               self.task_id))
        elif op == "video-extension" and self.task_id is not None and (
                len(self.task_id) > 512 or any(c.isspace() for c in self.task_id)):
            errors.append(err("task_id", "bad_task_id",
                               f"task_id {shown(self.task_id)} is not a task id: ids have "
                               "no spaces or line breaks and at most 512 characters",
                               short(self.task_id)))
        return errors

    def _check_reference_counts(self, spec: ModelSpec) -> list[InitErrorDetails]:
        images = len(self.reference_images or ()) + len(self.material_asset_ids or ())
        return reference_count_problems(spec.id, spec.references, images,
                                        len(self.video_urls or ()), len(self.audio_urls or ()))

    def _check_urls(self) -> list[InitErrorDetails]:
        errors = []
        for f in ("image_url", "start_image", "end_image", "reference_images", "image",
                  "video_url", "video_urls", "audio_urls", "material_asset_ids"):
            value = getattr(self, f)
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                problem = url_problem(f, item)
                if problem:
                    where = f"{f}[{i}]" if isinstance(value, list) else f
                    errors.append(err(f, "bad_url", f"{where}: {problem}", short(item)))
        return errors

    def _check_service(self, spec: ModelSpec) -> list[InitErrorDetails]:
        if self.service_tier is not None and self.service_tier not in SERVICE_TIERS:
            return [err("service_tier", "service_tier_not_allowed",
                         f"service_tier {self.service_tier!r} is not supported by {spec.id}; "
                         f"allowed: {listed(SERVICE_TIERS)}", self.service_tier)]
        return []

    # ------------------------------------------------------------------ outputs
    def to_body(self) -> dict[str, Any]:
        """The exact JSON body of the create call: canonical names, no nulls."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_stored(cls, body: Any, catalog: Catalog | None = None) -> VideoRequest | None:
        """A request read back from the history, or None when today's rules refuse it (they
        may be stricter than when it was sent): a stored task must stay resumable."""
        if not isinstance(body, dict) or not body:
            return None
        try:
            return cls.model_validate(body, context={"catalog": catalog} if catalog else None)
        except ValueError:
            return None

    def fingerprint(self) -> str:
        """A short stable hash of the body, to find a task after an ambiguous submit."""
        canon = json.dumps(self.to_body(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> VideoRequest:
        """A revalidated copy with some fields changed (None removes a field)."""
        data = {**self.to_body(), **changes}
        return VideoRequest.model_validate({k: v for k, v in data.items() if v is not None})

    @property
    def has_video_input(self) -> bool:
        return bool(self.video_url or self.video_urls or self.operation == "video-extension")


__all__ = ["VideoRequest", "error_lines"]
