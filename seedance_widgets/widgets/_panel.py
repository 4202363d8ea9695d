"""`SeedancePanel`: the generation form. Python's VideoRequest is the only judge of the form.

The page sends the whole form on each edit; the kernel fits it to the model, validates it,
prices it and says whether Generate may be pressed and why not. Submitting is single-flight:
while one submit is in the air every other submit (a double click, Ctrl+Enter, a second
`await panel.submit()`) joins it, so one click makes one task. The rules are in `_form`.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

import traitlets
from pydantic import ValidationError

from .._client import AsyncSeedanceClient
from .._demo import demo_notice
from .._errors import BudgetExceededError, SeedanceError, TaskNotRecordedError, UsageError
from .._inputs import MAX_IMAGE_BYTES, money
from .._media_host import AsyncMedia, MediaHost
from .._pricing import PriceEstimate, estimate_price
from .._request import VideoRequest
from .._task import Task
from . import _form as form_rules
from ._base import WidgetBase, child
from ._card import CardModel
from ._gallery import Gallery
from ._materials import MaterialsDesk, PanelHooks
from ._media_drops import MediaDrops
from ._tracker import TaskTracker
from ._uploads import UPLOAD, UploadRefused, add_image

log = logging.getLogger("seedance_widgets")
RESTORE_HINT = "Gallery.from_history() brings back every run kept in the history."


class SeedancePanel(WidgetBase):
    """The form. `SeedancePanel(model="seedance-2.0-fast", prompt="...")` pre-fills it.

    Keyword arguments are request fields; inputs imply their operation
    (`image_url=` -> image-to-video) and one that does not fit raises, naming the field.
    Without a client it uses TOKENLAB_API_KEY / TOKENLAB_BASE_URL, or demo mode when no key
    is set. `media_host=` publishes dropped video and audio (default: the client's, from
    SEEDANCE_MEDIA_HOST). `panel.request` is the current VideoRequest, `await panel.submit()`
    returns the task, `panel.tasks` lists the panel's tasks and `panel.gallery` keeps every run.
    """

    _view = traitlets.Unicode("panel").tag(sync=True)
    catalog = traitlets.Dict().tag(sync=True)
    form = traitlets.Dict().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)
    price = traitlets.Dict().tag(sync=True)
    generate = traitlets.Dict().tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    budget = traitlets.Dict().tag(sync=True)
    notice = traitlets.Dict().tag(sync=True)
    demo = traitlets.Unicode("").tag(sync=True)  # the demo badge's text; "" when live
    # Why runs are not being kept, shown for the panel's whole life (notices come and go).
    history_off = traitlets.Unicode("").tag(sync=True)
    sources = traitlets.List().tag(sync=True)
    restore_hint = traitlets.Unicode(RESTORE_HINT).tag(sync=True)
    current = traitlets.Any(None).tag(**child())
    assets = traitlets.Dict().tag(sync=True)  # the assets drawer
    registrations = traitlets.Dict().tag(sync=True)  # "Register as asset", by input
    media = traitlets.Dict().tag(sync=True)  # the media host, or what to configure
    uploads = traitlets.Dict().tag(sync=True)  # dropped video/audio files and their uploads

    def __init__(self, client: AsyncSeedanceClient | None = None, *,
                 gallery: Gallery | bool = True, budget_usd: float | None = None,
                 save_videos: bool = True, video_delivery: str = "url",
                 refresh_catalog: bool = True, history: Any = None,
                 media_host: MediaHost | None = None, **request_fields: Any) -> None:
        # Both raise before any widget exists: a bad field or a budget that is not a finite
        # amount >= 0 (NaN would switch the guard off).
        start = form_rules.form_from_fields(request_fields)
        budget = None if budget_usd is None else money(budget_usd, "budget_usd")
        super().__init__(client=client, video_delivery=video_delivery, history=history,
                         on_action=None)
        self.budget_usd = budget
        self.save_videos = save_videos
        self._uploads: dict[str, str] = {}  # upload key -> data URL, never synced
        self._submitted: list[TaskTracker] = []
        self._inflight: asyncio.Task[Task] | None = None
        self._estimate: PriceEstimate | None = None
        self._origin: tuple[str, TaskTracker] | None = None  # (action, source) of the form
        if gallery is True:
            self.gallery: Gallery | None = Gallery(client=self.client,
                                                   video_delivery=video_delivery,
                                                   on_action=self.apply_action, history=history)
            self._owns_gallery = True
        else:
            self.gallery = gallery or None
            self._owns_gallery = False
            if self.gallery is not None and self.gallery._on_action is None:
                self.gallery._on_action = self.apply_action
        self._session.panels.append(self.apply_action)  # takes actions of unbound cards
        self.demo = demo_notice() if self.client.demo else ""
        hooks = PanelHooks(publish=lambda name, value: setattr(self, name, value),
                           get_form=lambda: dict(self.form), say=self._say,
                           set_form=lambda form: setattr(self, "form", form))
        self._desk = MaterialsDesk(self.client, self._bridge, hooks)
        self._drops = MediaDrops(AsyncMedia(media_host) if media_host is not None
                                 else self.client.media, self._bridge, hooks)
        self.assets, self.media = dict(self._desk.state), dict(self._drops.state)
        self.observe(lambda _change: self._publish(), names="uploads")  # Generate's reason
        self.catalog = self._catalog_payload()
        fitted, notes = form_rules.fit_to_model(start, self.client.catalog)
        self.form = dict(fitted)
        self.observe(self._on_form, names="form")
        self._revalidate()
        self.history_off = self.history.problem or ""  # e.g. "history is off: <why>"
        if notes:
            self._say("; ".join(notes), kind="warn")
        if refresh_catalog and self._bridge.on_loop_thread():
            self._bridge.spawn(self._refresh_catalog(), report=False)

    # ------------------------------------------------------------------ catalog
    def _catalog_payload(self) -> dict[str, Any]:
        return {**form_rules.catalog_payload(self.client.catalog),
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
        self._bridge.call(self._apply_form_edit, dict(change.get("old") or {}))

    def _apply_form_edit(self, old: dict[str, Any]) -> None:
        new = dict(self.form or {})
        notes: list[str] = []
        if (old.get("model"), old.get("operation")) != (new.get("model"), new.get("operation")):
            fitted, notes = form_rules.fit_to_model(new, self.client.catalog)
            new = dict(fitted)
        refs_old, refs_new = old.get("references") or [], new.get("references") or []
        if refs_old != refs_new and new.get("prompt"):
            new["prompt"] = form_rules.renumber_tags(str(new["prompt"]), refs_old, refs_new)
        if notes:
            self._say("; ".join(notes), kind="warn")
        self._drops.prune(new)
        if new != self.form:
            self.form = new  # observed again; the second pass changes nothing and validates
            return
        self._revalidate()

    def _resolve(self, url: str) -> str:
        if url.startswith(UPLOAD):
            return self._uploads.get(url[len(UPLOAD):], url)
        return self._drops.stand_in(url.strip())  # a clip not uploaded yet: checks only

    def _known_cards(self) -> dict[str, CardModel]:
        """The cards of every task this panel knows: its gallery's and its own."""
        return {**(self.gallery._cards if self.gallery else {}), **self._cards}

    def _input_seconds(self) -> float | None:
        f = self.form or {}
        if f.get("operation") == "video-extension":
            card = self._known_cards().get(str(f.get("task_id") or ""))
            return card.tracker.video_seconds if card else None
        if f.get("operation") == "video-to-video":
            url = str(f.get("video_url") or "")
            for card in self._known_cards().values():
                if url and card.tracker.task.video_url == url:
                    return card.tracker.video_seconds
        return None

    def _revalidate(self) -> None:
        catalog = self.client.catalog
        _req, errors = form_rules.validate(self.form, catalog, self._resolve)
        self.errors = errors
        self._estimate = form_rules.estimate(self.form, catalog,
                                             input_video_seconds=self._input_seconds())
        problem = form_rules.price_fields_problem(self.form, catalog.get(str(
            self.form.get("model")))) or ""
        self.price = dict(form_rules.price_payload(self._estimate, problem))
        self._publish()

    def _publish(self) -> None:
        self.budget = {"cap_usd": self.budget_usd, "spent_usd": round(self.spent_usd, 4)}
        gen = dict(form_rules.generate_state(
            form=self.form, errors=self.errors, price=self._estimate, cap_usd=self.budget_usd,
            spent_usd=self.spent_usd, busy=self.busy))
        waiting = self._drops.errors(self.form)  # clips not uploaded yet: no error, a reason
        if gen["enabled"] and waiting:
            gen.update(enabled=False, reason=next(iter(waiting.values())))
        self.generate = gen
        self.sources = self._sources()

    def _sources(self) -> list[dict[str, Any]]:
        out = []
        for card in self._known_cards().values():
            t = card.tracker.task
            if t.succeeded and not t.cancelled:
                prompt = str(card.info.get("prompt") or "")
                out.append({"id": t.id, "duration": card.tracker.video_seconds,
                            "label": f"{prompt[:40] or t.id} · {t.id[-8:]}"})
        return out[::-1][:50]

    @property
    def can_submit(self) -> bool:
        """Whether Generate is on; `generate["reason"]` says why not."""
        return bool(self.generate.get("enabled"))

    @property
    def request(self) -> VideoRequest:
        """The form as a VideoRequest; raises pydantic.ValidationError when it is invalid."""
        waiting = self._drops.errors(self.form)
        if waiting:
            raise UsageError("; ".join(waiting.values()))
        return VideoRequest.model_validate(form_rules.request_data(self.form, self._resolve),
                                           context={"catalog": self.client.catalog})

    def load(self, request: VideoRequest | dict[str, Any], **changes: Any) -> None:
        """Fill the form from a request (or a body dict), e.g. to re-run with edits."""
        body = request.to_body() if isinstance(request, VideoRequest) else dict(request)
        self.form = dict(form_rules.form_from_body({**body, **changes}))

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

    def _check_budget(self, est: PriceEstimate | None) -> None:
        if self.budget_usd is None:
            return
        if est is None or est.usd is None:
            raise BudgetExceededError(
                f"a budget of ${self.budget_usd:.2f} is set, but this run has no offline price,"
                " so it cannot be checked against it; choose a priced model or remove "
                "budget_usd")
        after = self.spent_usd + est.usd
        if after > self.budget_usd + 1e-9:
            raise BudgetExceededError(
                f"over budget: this run ({est.label()}) would bring spending to ${after:.2f}, "
                f"over the ${self.budget_usd:.2f} cap (${self.spent_usd:.2f} used so far)")

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
            est = estimate_price(req, catalog=self.client.catalog,
                                 input_video_seconds=self._input_seconds())
            self._check_budget(est)
            self._say("submitting…")
            unrecorded: Exception | None = None
            try:
                task = await self.client.create(req)
            except TaskNotRecordedError as exc:
                # The server made it but the history could not record it: it exists (and may
                # be charged), so it is followed all the same, and the error is shown.
                task, unrecorded = exc.task, exc
            if task.request is None:
                task = task.model_copy(update={"request": req})
            tracker = TaskTracker(self.client, task, save_videos=self.save_videos,
                                  input_video_seconds=est.input_video_seconds or None)
            self._submitted.append(tracker)
            origin = self._origin
            kw = ({"parent": origin[1].request_body, "parent_id": origin[1].id,
                   "parent_action": origin[0]} if origin else {})
            card = self._show(tracker, poll=self.gallery is None, **kw)
            if self.gallery is not None:
                self.gallery.add(tracker)
            self.current = card
            self._fallback_dirty = True
            self._say(f"Submitted {task.id} · {est.label()}")
            if unrecorded is not None:
                self._say(str(unrecorded), kind="error")
            return task
        except ValidationError as exc:
            self.errors = form_rules.error_map(exc)
            self._say("fix the highlighted fields first", kind="error")
            raise
        except SeedanceError as exc:
            self._say(str(exc), kind="error")
            raise
        except Exception as exc:
            self._say(f"submit failed: {exc}", kind="error")
            log.exception("submit failed")
            raise
        finally:
            self.busy = False
            self._publish()

    def _background_error(self, exc: BaseException) -> None:
        super()._background_error(exc)
        self._say(f"background error: {exc}", kind="error")  # in the widget, not only the log

    def _say(self, text: str, *, kind: str = "info") -> None:
        self.notice = {"text": text, "kind": kind}

    @property
    def tasks(self) -> list[Task]:
        return [t.task for t in self._submitted]

    # ------------------------------------------------------------------ messages
    def _message(self, kind: str, msg: dict[str, Any], buffers: list[Any]) -> None:
        if kind == "submit":
            if self._inflight is not None and not self._inflight.done():
                return  # a double click joins the submit already in flight
            self.submit()
        elif kind == "upload":
            try:
                self.form, note = add_image(self.form, msg, buffers, self._uploads)
                self._say(note)
            except UploadRefused as exc:
                self._say(str(exc), kind="error")
        elif kind in ("assets_refresh", "assets_more", "asset_insert", "register"):
            self._desk.receive(kind, msg)
        elif kind in ("media_file", "media_upload"):
            self._drops.receive(kind, msg, buffers)
        else:
            super()._message(kind, msg, buffers)

    def apply_action(self, action: str, tracker: TaskTracker) -> None:
        """Card actions: extend, use the last frame as the start, re-run with edits."""
        body = tracker.request_body or {}
        base = {k: body[k] for k in ("model", "prompt", "resolution", "aspect_ratio",
                                     "output_audio", "seed") if k in body}
        if action == "extend" and tracker.task.succeeded:
            self.load({**base, "operation": "video-extension", "task_id": tracker.id,
                       "duration": body.get("duration", 5)})
        elif action == "use_last_frame" and tracker.task.last_frame_url:
            self.load({**base, "operation": "image-to-video",
                       "image_url": tracker.task.last_frame_url,
                       "duration": body.get("duration", 5)})
        elif action == "rerun" and body:
            self.load(body)
        else:
            self._say(f"cannot {action.replace('_', ' ')} {tracker.id}: "
                      + ("it has no request" if not body else "it did not finish"), kind="warn")
            return
        self._show(tracker, poll=False)
        self._origin = (action, tracker)
        self._say(f"loaded {action.replace('_', ' ')} of {tracker.id}: edit, then Generate")
        self.send({"type": "focus", "field": "prompt"})

    # ------------------------------------------------------------------ display
    def static_html(self) -> str:
        f = self.form or {}
        e = html.escape
        head = (f"<div><b>Seedance panel</b> · {e(str(f.get('model', '')))} · "
                f"{e(str(f.get('operation', '')))}<br><i>{e(str(f.get('prompt', '')))}</i>"
                f"<br><small>{e(RESTORE_HINT)}</small></div>")
        card = self.current
        return head + (card.static_html() if isinstance(card, CardModel) else "")

    def close(self) -> None:
        panels = self._session.panels if hasattr(self, "_session") else []
        if self.apply_action in panels:
            panels.remove(self.apply_action)
        if getattr(self, "_owns_gallery", False) and self.gallery is not None:
            self.gallery.close()
        super().close()

    def __repr__(self) -> str:
        f = self.form or {}
        mode = "demo" if self._client is not None and self._client.demo else "live"
        return (f"SeedancePanel(model={f.get('model')!r}, operation={f.get('operation')!r}, "
                f"tasks={len(self._submitted)}, mode={mode})")
