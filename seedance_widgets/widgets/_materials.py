"""The panel's material assets: the assets drawer, "Register as asset", inserting `asset://` ids.

The drawer lists the account's `ACTIVE` assets a page at a time (`client.assets.list` follows
the server's pages only as far as the drawer shows). Registering a reference's URL creates one
asset (one click, one create: a second click while it runs joins it), then follows it to
`ACTIVE` or `FAILED`, and on `ACTIVE` swaps the reference to `asset://<id>` if it still holds
that URL, saying so. All of it runs on the kernel's main loop through the widget's loop bridge,
which keeps the tasks and cancels them (our waits, never the remote asset) on `close()`.

The contract takes `asset://` ids only in image inputs (`image_url`, `start_image`,
`end_image`, `reference_images`), so only image references can be registered or inserted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._assets import Asset
from .._errors import AssetFailedError, AssetTimeoutError, SeedanceError
from ._form import make_ref
from ._loop import LoopBridge
from ._protocol import AssetItem, AssetsState, RegisterState

log = logging.getLogger("seedance_widgets")

PAGE = 24  # assets per page of the drawer
REGISTER_WAIT_S = 300.0
IMAGE_TARGETS = ("image_url", "start_image", "end_image")
# Where an inserted image goes when the current operation has no image input of that name.
TARGET_OPERATION = {"image_url": "image-to-video", "start_image": "start-end-to-video",
                    "end_image": "start-end-to-video", "references": "reference-to-video"}
EMPTY_HINT = ("No ACTIVE material assets yet. Add an image URL under References and press "
              "Register as asset, or run client.assets.create(url) in a cell.")


def asset_item(asset: Asset) -> AssetItem:
    created = asset.created_at
    return {"asset_id": asset.id, "uri": asset.uri, "name": asset.asset_name or asset.id,
            "asset_type": asset.asset_type, "thumb": asset.thumbnail_url,
            "created_ms": int(created.timestamp() * 1000) if created else None}


def insert_asset(form: Mapping[str, Any], uri: str, name: str, field: str
                 ) -> tuple[dict[str, Any], str]:
    """The form with `uri` inserted where the user chose, and what happened, in words.

    An image field or references of another operation switches the operation to the one
    that has it (as keyword arguments do), and says so.
    """
    if field not in TARGET_OPERATION:
        raise ValueError(f"asset ids go into {', '.join(TARGET_OPERATION)}, not {field!r}")
    new = dict(form)
    op = TARGET_OPERATION[field]
    switched = new.get("operation") != op
    new["operation"] = op
    if field == "references":
        new["references"] = [*(new.get("references") or []), make_ref("image", uri, name)]
        where = "as a reference image"
    else:
        new[field] = uri
        where = f"as {field.replace('_', ' ')}"
    note = f"inserted {name} ({uri}) {where}"
    return new, note + (f"; the operation is now {op}" if switched else "")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AssetFailedError) and exc.asset is not None:
        return exc.asset.error_message or str(exc)
    return str(exc)


@dataclass(frozen=True)
class PanelHooks:
    """How a part of the panel reaches it (callbacks, not a back-reference)."""

    publish: Callable[[str, Any], None]  # (trait name, value): set one synced trait
    get_form: Callable[[], dict[str, Any]]
    set_form: Callable[[dict[str, Any]], None]
    say: Callable[..., None]  # (text, kind=...): the notice line


class PanelPart:
    """A part of the panel: works on the panel's loop bridge and reaches it through hooks."""

    def __init__(self, bridge: LoopBridge, hooks: PanelHooks) -> None:
        self._bridge = bridge
        self._publish, self._say = hooks.publish, hooks.say
        self._get_form, self._set_form = hooks.get_form, hooks.set_form


class MaterialsDesk(PanelPart):
    """Drawer and registrations of one panel."""

    def __init__(self, client: Any, bridge: LoopBridge, hooks: PanelHooks) -> None:
        super().__init__(bridge, hooks)
        self._client = client
        self.state: AssetsState = {"status": "idle", "items": [], "has_more": False,
                                   "error": "", "empty_hint": EMPTY_HINT}
        self.registrations: dict[str, RegisterState] = {}
        self._pages: AsyncIterator[Asset] | None = None
        self._peek: Asset | None = None
        self._loading: asyncio.Task[Any] | None = None
        self._registering: dict[str, asyncio.Task[Any]] = {}

    # ------------------------------------------------------------------ messages
    def receive(self, kind: str, msg: dict[str, Any]) -> None:
        if kind == "assets_refresh":
            self.load(fresh=True)
        elif kind == "assets_more":
            self.load(fresh=False)
        elif kind == "asset_insert":
            self.insert(str(msg["asset_id"]), str(msg.get("name") or ""), str(msg["field"]))
        elif kind == "register":
            self.register(str(msg["key"]), str(msg["url"]), str(msg.get("name") or ""))

    # ------------------------------------------------------------------ the drawer
    def _show(self, **changes: Any) -> None:
        self.state = {**self.state, **changes}  # type: ignore[typeddict-item]
        self._publish("assets", dict(self.state))

    def load(self, *, fresh: bool) -> None:
        """List the first page again (`fresh`), or the next one."""
        if self._loading is not None and not self._loading.done():
            if not fresh:
                return  # "more" while a page loads: that page is the more
            self._loading.cancel()
        if fresh or self._pages is None:
            self._pages = self._client.assets.list(status="ACTIVE", page_size=PAGE)
            self._peek = None
            self._show(status="loading", error="", items=[], has_more=False)
        else:
            self._show(status="loading", error="")
        self._loading = self._bridge.spawn(self._next_page(self._pages), report=False)

    async def _next_page(self, pages: AsyncIterator[Asset]) -> None:
        found: list[Asset] = [self._peek] if self._peek is not None else []
        try:
            while len(found) <= PAGE:  # one more than shown: is there a next page?
                found.append(await anext(pages))
        except StopAsyncIteration:
            pass
        except SeedanceError as exc:
            self._show(status="error", error=f"could not list the material assets: {exc}")
            return
        except Exception as exc:  # a widget must say what went wrong, not hang on "loading"
            log.exception("listing material assets failed")
            self._show(status="error", error=f"could not list the material assets: "
                                             f"{type(exc).__name__}: {exc}")
            return
        if pages is not self._pages:
            return  # a refresh started meanwhile
        self._peek = found.pop() if len(found) > PAGE else None
        seen = {i["asset_id"] for i in self.state["items"]}
        items = [*self.state["items"], *(asset_item(a) for a in found if a.id not in seen)]
        self._show(status="ready", items=items, has_more=self._peek is not None)

    def insert(self, asset_id: str, name: str, field: str) -> None:
        uri = f"asset://{asset_id}"
        try:
            form, note = insert_asset(self._get_form(), uri, name or asset_id, field)
        except ValueError as exc:
            self._say(str(exc), kind="error")
            return
        self._set_form(form)
        self._say(note)

    # ------------------------------------------------------------------ registering
    def _mark(self, key: str, **changes: Any) -> None:
        old = self.registrations.get(key) or {"url": "", "status": "", "asset_id": "",
                                              "message": "", "terminal": False}
        self.registrations = {**self.registrations, key: {**old, **changes}}  # type: ignore
        self._publish("registrations", dict(self.registrations))

    def register(self, key: str, url: str, name: str) -> None:
        """Register `url` (the reference `key`, or the image field of that name) as an asset."""
        running = self._registering.get(key)
        if running is not None and not running.done():
            if self.registrations.get(key, {}).get("url") == url:
                return  # a second click joins the first: one click, one asset
            running.cancel()  # the reference changed: follow the new URL (the old asset stays)
        ref = next((r for r in self._get_form().get("references") or []
                    if r.get("key") == key), None)
        if ref is not None and ref.get("kind") != "image":
            self._mark(key, url=url, status="error", asset_id="", terminal=True,
                       message="TokenLab takes asset:// ids only in image inputs; a "
                               f"{ref.get('kind')} reference stays a public URL")
            return
        if not url.startswith(("http://", "https://")):
            self._mark(key, url=url, status="error", asset_id="", terminal=True,
                       message="only a public http(s) image URL can be registered")
            return
        self._mark(key, url=url, status="registering", asset_id="", terminal=False,
                   message="registering…")
        task = self._bridge.spawn(self._register(key, url, name[:128]), report=False)
        if task is not None:
            self._registering[key] = task

    async def _register(self, key: str, url: str, name: str) -> None:
        try:
            asset = await self._client.assets.create(url, asset_name=name or None)
            self._progress(key, asset)
            asset = await self._client.assets.wait_active(
                asset.id, timeout=REGISTER_WAIT_S, on_update=lambda a: self._progress(key, a))
        except AssetTimeoutError as exc:
            self._mark(key, status="timeout", terminal=True, message=(
                f"still PROCESSING after {REGISTER_WAIT_S:.0f} s; it keeps processing on the "
                "server and shows in the assets drawer once ACTIVE"))
            log.info("%s", exc)
            return
        except (AssetFailedError, SeedanceError) as exc:
            failed = isinstance(exc, AssetFailedError)
            self._mark(key, status="FAILED" if failed else "error", terminal=True,
                       message=_reason(exc))
            self._say(f"could not register {name or url}: {_reason(exc)}", kind="error")
            return
        except Exception as exc:
            log.exception("registering %s failed", url)
            self._mark(key, status="error", terminal=True,
                       message=f"{type(exc).__name__}: {exc}")
            return
        self._activated(key, url, name, asset)

    def _progress(self, key: str, asset: Asset) -> None:
        words = {"PROCESSING": "TokenLab is importing and checking the image…",
                 "ACTIVE": "ready", "FAILED": asset.error_message or "failed"}
        self._mark(key, status=asset.status, asset_id=asset.id,
                   message=words.get(asset.status, asset.status.lower()))

    def _activated(self, key: str, url: str, name: str, asset: Asset) -> None:
        form = dict(self._get_form())
        swapped = False
        if key in IMAGE_TARGETS and form.get(key) == url:
            form[key], swapped = asset.uri, True
        refs = []
        for ref in form.get("references") or []:
            if ref.get("key") == key and ref.get("url") == url:
                ref, swapped = {**ref, "url": asset.uri, "kind": "image"}, True
            refs.append(ref)
        form["references"] = refs
        label = name or url
        # The status first: the page shows the asset's picture by it once the form changes.
        self._mark(key, status="ACTIVE", asset_id=asset.id, terminal=True, message=(
            f"now {asset.uri}" if swapped else
            f"ACTIVE as {asset.uri}; the input changed meanwhile, so it was kept"))
        if swapped:
            self._set_form(form)
            self._say(f"{label} is material asset {asset.id}: the form uses {asset.uri} instead "
                      "of the URL (the service no longer fetches it per run)")
        else:
            self._say(f"{label} is material asset {asset.id}; its input changed meanwhile, so "
                      "nothing was replaced (insert it from the assets drawer)")
        if self.state["status"] == "ready":  # show it in an open drawer without a reload
            items = [i for i in self.state["items"] if i["asset_id"] != asset.id]
            self._show(items=[asset_item(asset), *items])
