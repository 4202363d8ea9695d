"""`SeedancePanel`: the generation form. Python's VideoRequest is the only judge of the form.

The browser sends the whole form on each edit; the kernel validates it, prices it and sends
back field errors. Submitting is single-flight: while one submit is in the air every other
submit (a double click, Ctrl+Enter, a second `await panel.submit()`) joins it, so one click
makes one task.
"""

from __future__ import annotations

import asyncio
import base64
import difflib
import hashlib
import logging
from typing import Any

import traitlets
from pydantic import ValidationError

from ._catalog import OPERATIONS, ModelSpec
from ._client import AsyncSeedanceClient
from ._demo import DEMO_NOTICE
from ._errors import BudgetExceededError, SeedanceError, TaskNotRecordedError
from ._inputs import money
from ._pricing import PriceEstimate, estimate_price
from ._request import ALIASES, IMAGE_MIME, MAX_IMAGE_BYTES, OPERATION_INPUTS, VideoRequest
from ._task import Task
from ._tracker import TaskTracker
from ._widget_base import WidgetBase
from ._widget_gallery import Gallery

log = logging.getLogger("seedance_widgets")

FORM_DEFAULTS: dict[str, Any] = {
    "model": "seedance-2.0-fast", "operation": "text-to-video", "prompt": "",
    "resolution": "720p", "duration": 5, "aspect_ratio": "16:9", "output_audio": True,
    "seed": None, "return_last_frame": False, "image_url": "", "start_image": "",
    "end_image": "", "video_url": "", "task_id": "", "references": [],
}
REFERENCE_FIELDS = {"image": "reference_images", "video": "video_urls", "audio": "audio_urls"}
# Where a VideoRequest error is shown in the form.
ERROR_FIELD = {"reference_images": "references", "video_urls": "references",
               "audio_urls": "references", "material_asset_ids": "references",
               "image": "image_url"}
UPLOAD = "upload://"


class SeedancePanel(WidgetBase):
    """The form. `SeedancePanel(model="seedance-2.0-fast", prompt="...")` pre-fills it.

    Without a client it uses TOKENLAB_API_KEY / TOKENLAB_BASE_URL, or demo mode when no key
    is set. `panel.request` is the current VideoRequest, `await panel.submit()` returns the
    task, `panel.tasks` lists the panel's tasks and `panel.gallery` keeps every run.
    """

    _view = traitlets.Unicode("panel").tag(sync=True)
    catalog = traitlets.Dict().tag(sync=True)
    form = traitlets.Dict().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)
    price = traitlets.Dict().tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    can_submit = traitlets.Bool(False).tag(sync=True)
    budget = traitlets.Dict().tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    notice_kind = traitlets.Unicode("info").tag(sync=True)
    current = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(self, client: AsyncSeedanceClient | None = None, *,
                 gallery: Gallery | bool = True, budget_usd: float | None = None,
                 save_videos: bool = True, video_delivery: str = "url",
                 refresh_catalog: bool = True, **request_fields: Any) -> None:
        super().__init__(client=client, video_delivery=video_delivery)
        self.budget_usd = None if budget_usd is None else money(budget_usd, "budget_usd")
        self.save_videos = save_videos
        self._uploads: dict[str, str] = {}  # upload id -> data URL, never synced
        self._submitted: list[TaskTracker] = []
        self._inflight: asyncio.Task[Task] | None = None
        self._request: VideoRequest | None = None
        self._estimate: PriceEstimate | None = None
        if gallery is True:
            self.gallery: Gallery | None = Gallery(client=self.client, panel=self,
                                                   video_delivery=video_delivery)
            self._owns_gallery = True
        else:
            self.gallery = gallery or None
            self._owns_gallery = False
            if self.gallery is not None:
                self.gallery.panel = self
        self.catalog = self._catalog_payload()
        self.form = {**FORM_DEFAULTS, **_form_fields(request_fields)}
        self.observe(self._on_form, names="form")
        self._revalidate()
        self.notice = DEMO_NOTICE if self.client.demo else ""
        history = self.client.history
        if history is not None and not history.available:
            self._say(history.problem or "history is off", error=True)
        if refresh_catalog and self._bridge.on_loop_thread():
            self._bridge.spawn(self._refresh_catalog(), report=False)

    # ------------------------------------------------------------------ catalog
    def _catalog_payload(self) -> dict[str, Any]:
        specs = [s for s in (self.client.catalog.get(i) for i in self.client.catalog.ids())
                 if s is not None]
        return {"models": [_spec_payload(s) for s in specs],
                "inputs": {op: (["references"] if op == "reference-to-video" else
                                [f for f in fields if f != "image"])
                           for op, fields in OPERATION_INPUTS.items()},
                "max_image_bytes": MAX_IMAGE_BYTES}

    async def _refresh_catalog(self) -> None:
        """Read the live model details, so limits follow the service, not our defaults."""
        for model_id in self.client.catalog.ids():
            try:
                await self.client.model(model_id)
            except SeedanceError as exc:
                log.info("catalog refresh of %s failed, keeping defaults: %s", model_id, exc)
        self.catalog = self._catalog_payload()
        self._revalidate()

    # ------------------------------------------------------------------ form -> request
    def _on_form(self, change: dict[str, Any]) -> None:
        self._bridge.call(self._revalidate)

    def _form_data(self) -> dict[str, Any]:
        f = {**FORM_DEFAULTS, **(self.form or {})}
        op = f.get("operation") or "text-to-video"
        data: dict[str, Any] = {"model": f.get("model"), "operation": op}
        if f.get("prompt") or op != "video-extension":
            data["prompt"] = f.get("prompt") or ""
        for key in ("resolution", "duration", "aspect_ratio", "output_audio", "seed"):
            if f.get(key) not in (None, ""):
                data[key] = f[key]
        if f.get("return_last_frame"):
            data["return_last_frame"] = True
        for key in OPERATION_INPUTS.get(op, ()):
            if key in ("image", "material_asset_ids") or key in REFERENCE_FIELDS.values():
                continue
            if f.get(key):
                data[key] = self._resolve(str(f[key]))
        if op == "reference-to-video":
            for ref in f.get("references") or []:
                field = REFERENCE_FIELDS.get(str(ref.get("kind")), "reference_images")
                data.setdefault(field, []).append(self._resolve(str(ref.get("url", ""))))
        return data

    def _resolve(self, url: str) -> str:
        if url.startswith(UPLOAD):
            return self._uploads.get(url[len(UPLOAD):], url)
        return url.strip()

    def _revalidate(self) -> None:
        try:
            req = VideoRequest.model_validate(self._form_data(),
                                              context={"catalog": self.client.catalog})
        except ValidationError as exc:
            self._request, self._estimate = None, None
            self.errors = _error_map(exc)
            self.price = {"label": "fix the form to see the price", "usd": None, "tokens": 0,
                          "known": False, "assumptions": []}
            self.can_submit = False
        else:
            self._request = req
            self._estimate = estimate_price(req, catalog=self.client.catalog)
            self.errors = {}
            self.price = _price_payload(self._estimate)
            self.can_submit = True
        self._publish_budget()

    @property
    def request(self) -> VideoRequest:
        """The form as a VideoRequest; raises pydantic.ValidationError when it is invalid."""
        return VideoRequest.model_validate(self._form_data(),
                                           context={"catalog": self.client.catalog})

    def load(self, request: VideoRequest | dict[str, Any], **changes: Any) -> None:
        """Fill the form from a request (or a body dict), e.g. to re-run with edits."""
        body = request.to_body() if isinstance(request, VideoRequest) else dict(request)
        self.form = {**FORM_DEFAULTS, **_form_fields({**body, **changes})}

    # ------------------------------------------------------------------ budget
    @property
    def spent_usd(self) -> float:
        """Committed spend: reported cost, else the estimate; failed tasks are not charged."""
        total = 0.0
        for tracker in self._submitted:
            t = tracker.task
            if t.status == "failed":
                continue
            if t.cost_usd is not None:
                total += t.cost_usd
            elif t.request is not None:
                total += estimate_price(t.request, catalog=self.client.catalog).usd or 0.0
        return total

    def _publish_budget(self) -> None:
        self.budget = {"cap_usd": self.budget_usd, "spent_usd": round(self.spent_usd, 4)}

    def _check_budget(self, estimate: PriceEstimate) -> None:
        if self.budget_usd is None:
            return
        if estimate.usd is None:
            raise BudgetExceededError(
                f"a budget of ${self.budget_usd:.2f} is set, but {estimate.model} has no offline "
                "price, so the run cannot be checked against it; choose a priced model or "
                "remove budget_usd")
        after = self.spent_usd + estimate.usd
        if after > self.budget_usd + 1e-9:
            raise BudgetExceededError(
                f"over budget: this run ({estimate.label()}) would bring spending to "
                f"${after:.2f}, over the ${self.budget_usd:.2f} cap "
                f"(${self.spent_usd:.2f} used so far)")

    # ------------------------------------------------------------------ submit
    def submit(self) -> asyncio.Task[Task]:
        """Submit the form; `await panel.submit()` gives the created Task.

        While a submit is in flight, calling this again returns the same pending submit.
        """
        if self._inflight is not None and not self._inflight.done():
            return self._inflight
        self.busy = True
        task = self._bridge.spawn(self._submit(), report=False)
        assert task is not None, "the panel is closed"
        self._inflight = task
        return task

    async def _submit(self) -> Task:
        try:
            req = self.request
            estimate = estimate_price(req, catalog=self.client.catalog)
            self._check_budget(estimate)
            self._say("submitting…")
            unrecorded: TaskNotRecordedError | None = None
            try:
                task = await self.client.create(req)
            except TaskNotRecordedError as exc:  # it exists and may be charged: follow it
                task, unrecorded = exc.task, exc
            if task.request is None:
                task = task.model_copy(update={"request": req})
            tracker = TaskTracker(self.client, task, save_videos=self.save_videos)
            self._submitted.append(tracker)
            if self.gallery is not None:
                self.gallery.add(tracker)
            self._follow(tracker, poll=self.gallery is None)
            self._say(f"submitted {task.id} ({estimate.label()})"
                      + (" · " + DEMO_NOTICE if self.client.demo else ""))
            if unrecorded is not None:
                self._say(str(unrecorded), error=True)
            return task
        except ValidationError as exc:
            self.errors = _error_map(exc)
            self._say("fix the highlighted fields first", error=True)
            raise
        except SeedanceError as exc:
            self._say(str(exc), error=True)
            raise
        except Exception as exc:
            self._say(f"submit failed: {exc}", error=True)
            log.exception("submit failed")
            raise
        finally:
            self.busy = False
            self._publish_budget()

    def _background_error(self, exc: BaseException) -> None:
        super()._background_error(exc)
        self._say(f"background error: {exc}", error=True)  # in the widget, not only the log

    def _say(self, text: str, *, error: bool = False) -> None:
        self.notice, self.notice_kind = text, ("error" if error else "info")

    @property
    def tasks(self) -> list[Task]:
        return [t.task for t in self._submitted]

    # ------------------------------------------------------------------ messages
    def _message(self, kind: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        if kind == "submit":
            if self._inflight is not None and not self._inflight.done():
                return  # a double click joins the submit already in flight
            self.submit()
        elif kind == "upload":
            self._upload(content, buffers)
        else:
            super()._message(kind, content, buffers)

    def _upload(self, content: dict[str, Any], buffers: list[Any]) -> None:
        mime = str(content.get("mime") or "")
        name = str(content.get("name") or "image")
        if not buffers:
            return
        data = bytes(buffers[0])
        kind = mime.split("/")[-1].lower()
        if not mime.startswith("image/") or kind not in IMAGE_MIME:
            self._say(f"{name}: only image files can be dropped ({', '.join(IMAGE_MIME)}); "
                      "video and audio need a URL or an asset:// material id", error=True)
            return
        if len(data) > MAX_IMAGE_BYTES:
            self._say(f"{name} is {len(data) / 2**20:.1f} MB; images must be under "
                      f"{MAX_IMAGE_BYTES // 2**20} MB", error=True)
            return
        upload_id = hashlib.sha256(data).hexdigest()[:16]
        self._uploads[upload_id] = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        url = UPLOAD + upload_id
        target = content.get("target") or content.get("field")
        form = dict(self.form)
        if target in ("image_url", "start_image", "end_image"):
            form[target] = url
        else:
            form["references"] = [*form.get("references", []),
                                  {"kind": "image", "url": url, "name": name}]
        self.form = form
        self._say(f"added {name} ({len(data) / 1024:.0f} KB)")

    def apply_action(self, action: str, tracker: TaskTracker) -> None:
        """Card actions: extend, use the last frame as the start, re-run with edits."""
        body = tracker.request_body or {}
        base = {k: body[k] for k in ("model", "prompt", "resolution", "aspect_ratio",
                                     "output_audio") if k in body}
        if action == "extend":
            self.load({**base, "operation": "video-extension", "task_id": tracker.id,
                       "duration": body.get("duration", 5)})
        elif action == "use_last_frame" and tracker.task.last_frame_url:
            self.load({**base, "operation": "image-to-video",
                       "image_url": tracker.task.last_frame_url,
                       "duration": body.get("duration", 5)})
        elif action == "rerun" and body:
            self.load(body)
        else:
            return
        self._say(f"loaded {action.replace('_', ' ')} of {tracker.id}: edit, then Generate")
        self.send({"type": "focus", "field": "prompt"})

    # ------------------------------------------------------------------ display
    def _tracker_changed(self, tracker: TaskTracker) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if self._submitted:
            latest = self._submitted[-1]
            self.current = latest.card(actions=("extend", "use_last_frame", "rerun"),
                                       video_src=self._video_delivery)
        self._publish_budget()

    def static_html(self) -> str:
        import html

        f = self.form or {}
        head = (f"<div><b>Seedance panel</b> · {html.escape(str(f.get('model', '')))} · "
                f"{html.escape(str(f.get('operation', '')))}<br>"
                f"<i>{html.escape(str(f.get('prompt', '')))}</i></div>")
        return head + (self._submitted[-1].static_html() if self._submitted else "")

    def close(self) -> None:
        if self._owns_gallery and self.gallery is not None:
            self.gallery.close()
        super().close()

    def __repr__(self) -> str:
        f = self.form or {}
        mode = "demo" if self._client is not None and self._client.demo else "live"
        return (f"SeedancePanel(model={f.get('model')!r}, operation={f.get('operation')!r}, "
                f"tasks={len(self._submitted)}, mode={mode})")


def _spec_payload(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "resolutions": list(spec.resolutions),
            "durations": list(spec.durations), "aspect_ratios": list(spec.aspect_ratios),
            "operations": [o for o in OPERATIONS if o in spec.operations],
            "prompt_max_characters": spec.prompt_max_characters,
            "references": {"images": spec.references.images, "videos": spec.references.videos,
                           "audios": spec.references.audios, "files": spec.references.files}}


def _price_payload(est: PriceEstimate) -> dict[str, Any]:
    return {"label": est.label(), "usd": est.usd, "tokens": est.tokens, "known": est.known,
            "assumptions": list(est.assumptions)}


def _error_map(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else "request"
        field = ERROR_FIELD.get(field, field)
        out[field] = f"{out[field]}; {e['msg']}" if field in out else e["msg"]
    return out


def _form_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Request-style keyword arguments as form values; unknown names are refused."""
    known = set(VideoRequest.model_fields) | set(ALIASES)
    form: dict[str, Any] = {}
    refs: list[dict[str, str]] = []
    for key, value in fields.items():
        if key not in known:
            guess = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            raise TypeError(f"SeedancePanel got an unknown request field {key!r}{hint}")
        key = ALIASES.get(key, key)
        if key in ("reference_images", "video_urls", "audio_urls", "material_asset_ids"):
            kind = {"video_urls": "video", "audio_urls": "audio"}.get(key, "image")
            for item in value or []:
                url = f"asset://{item}" if key == "material_asset_ids" else item
                refs.append({"kind": kind, "url": url, "name": str(item).rsplit("/", 1)[-1]})
        elif key == "image":
            form["image_url"] = value
        elif value is not None:
            form[key] = value
    if refs:
        form["references"] = refs
    return form
