"""The one contract between the kernel and the front end: synced state and every message.

`js/src/protocol.js` mirrors these names in JSDoc, and `tests/test_protocol.py` checks that the
two lists of message types and state keys agree. Python decides every fact the page shows
(terminal, display status, errors, prices, why Generate is off); the JS only renders them.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, NotRequired, TypedDict

log = logging.getLogger("seedance_widgets")


# ---------------------------------------------------------------------- synced state
class Ref(TypedDict):
    """One reference of a reference-to-video form; `key` is stable across reorders."""

    key: str
    kind: Literal["image", "video", "audio"]
    url: str
    name: str


class FormState(TypedDict):
    model: str
    operation: str
    prompt: str
    resolution: str
    duration: int
    aspect_ratio: str
    output_audio: bool
    seed: int | None
    seed_locked: bool
    return_last_frame: bool
    image_url: str
    start_image: str
    end_image: str
    video_url: str
    task_id: str
    references: list[Ref]


class PriceState(TypedDict):
    label: str
    usd: float | None
    tokens: int
    known: bool
    assumptions: list[str]


class GenerateState(TypedDict):
    enabled: bool
    reason: str
    label: str


class BudgetState(TypedDict):
    cap_usd: float | None
    spent_usd: float


class NoticeState(TypedDict):
    text: str
    kind: Literal["info", "warn", "error"]


class SourceOption(TypedDict):
    """A finished task the "Task to extend" picker offers."""

    id: str
    label: str
    duration: float | None


class AssetItem(TypedDict):
    """One ACTIVE material asset in the assets drawer."""

    asset_id: str
    uri: str
    name: str
    asset_type: str
    thumb: str | None
    created_ms: int | None


class AssetsState(TypedDict):
    """The assets drawer: `status` is idle, loading, ready or error."""

    status: Literal["idle", "loading", "ready", "error"]
    items: list[AssetItem]
    has_more: bool
    error: str
    empty_hint: str


class RegisterState(TypedDict):
    """"Register as asset" on one reference (by its key) or image field (by its name)."""

    url: str
    status: str  # registering, PROCESSING, ACTIVE, FAILED, error, timeout
    asset_id: str
    message: str
    terminal: bool


class MediaState(TypedDict):
    """Whether dropped video and audio can be uploaded, where to, and what to set if not."""

    configured: bool
    where: str
    help: str


class UploadState(TypedDict):
    """A dropped video or audio file (`local://<key>` in the form) and its upload."""

    name: str
    kind: Literal["video", "audio"]
    size: int
    status: Literal["pending", "uploading", "done", "failed"]
    sent: int
    total: int
    url: str
    message: str


class CardInfo(TypedDict):
    """What does not change while a task runs; sent once per card."""

    id: str
    model: str
    operation: str
    prompt: str
    params: dict[str, Any]
    parent_id: str | None
    parent_action: str | None
    diff: list[str]
    estimate_label: str
    created_ms: int | None


class CardLive(TypedDict):
    """What a poll changes; one task's update sends only this."""

    status: str
    display_status: str
    terminal: bool
    succeeded: bool
    progress: int | None
    eta_s: float | None
    eta_at_ms: int | None
    finished_ms: int | None
    error: str | None
    cost_label: str
    charged: bool
    billing_id: str
    video_url: str
    last_frame_url: str
    video_src: Literal["url", "kernel"]
    can_cancel: bool
    cancel_message: str
    saved_path: str | None
    actions: list[str]
    starred: bool
    note: str
    history: bool


class GalleryStatus(TypedDict):
    total: int
    shown: int
    has_more: bool
    history: bool
    problem: str | None
    models: list[str]


# ---------------------------------------------------------------------- messages
class SubmitMsg(TypedDict):
    type: Literal["submit"]
    n: int


class PingMsg(TypedDict):
    type: Literal["ping"]
    n: int


class UploadMsg(TypedDict):
    type: Literal["upload"]
    name: str
    mime: str
    field: str


class AssetsRefreshMsg(TypedDict):
    """The drawer opened (or Refresh): list the first page again; `more` for the next."""

    type: Literal["assets_refresh", "assets_more"]


class AssetInsertMsg(TypedDict):
    type: Literal["asset_insert"]
    asset_id: str
    name: str
    field: str  # image_url, start_image, end_image or references


class RegisterMsg(TypedDict):
    type: Literal["register"]
    key: str  # a reference's key, or an image field's name
    url: str
    name: str


class MediaFileMsg(TypedDict):
    """Sent with one buffer: a dropped video or audio file, kept in the kernel until uploaded."""

    type: Literal["media_file"]
    name: str
    mime: str
    field: str  # references or video_url


class MediaUploadMsg(TypedDict):
    type: Literal["media_upload"]
    key: str


class CardMsg(TypedDict):
    """cancel, save, need_video, need_frame and code name a card by task id."""

    type: Literal["cancel", "save", "need_video", "need_frame", "code"]
    id: str


class ActionMsg(TypedDict):
    type: Literal["action"]
    action: Literal["extend", "use_last_frame", "rerun"]
    id: str


class StarMsg(TypedDict):
    type: Literal["star"]
    id: str
    starred: bool


class NoteMsg(TypedDict):
    type: Literal["note"]
    id: str
    note: str


class QueryMsg(TypedDict):
    type: Literal["query"]
    search: str
    status: str
    model: str
    starred: bool


class MoreMsg(TypedDict):
    type: Literal["more"]


class PongMsg(TypedDict):
    type: Literal["pong"]
    n: int


class MediaMsg(TypedDict):
    """Sent with one buffer: the bytes of a video or a last frame."""

    type: Literal["video", "frame"]
    id: str
    mime: str


class CodeMsg(TypedDict):
    type: Literal["code"]
    id: str
    python: str
    curl: str
    json: str
    error: NotRequired[str]


class FocusMsg(TypedDict):
    type: Literal["focus"]
    field: str


# Message type -> the keys it carries (besides "type"), from the page to the kernel ...
TO_KERNEL: dict[str, tuple[str, ...]] = {
    "submit": ("n",), "ping": ("n",), "upload": ("name", "mime", "field"),
    "cancel": ("id",), "save": ("id",), "need_video": ("id",), "need_frame": ("id",),
    "code": ("id",), "action": ("action", "id"), "star": ("id", "starred"),
    "note": ("id", "note"), "query": ("search", "status", "model", "starred"), "more": (),
    "assets_refresh": (), "assets_more": (), "asset_insert": ("asset_id", "name", "field"),
    "register": ("key", "url", "name"), "media_file": ("name", "mime", "field"),
    "media_upload": ("key",),
}
# ... and from the kernel to the page.
TO_PAGE: dict[str, tuple[str, ...]] = {
    "pong": ("n",), "video": ("id", "mime"), "frame": ("id", "mime"),
    "code": ("id", "python", "curl", "json"), "focus": ("field",),
}
# Keys a message may leave out (older pages send a bare submit; an upload may name no field).
OPTIONAL = {("submit", "n"), ("upload", "field"), ("register", "name"),
            ("asset_insert", "name")}
ACTIONS = ("extend", "use_last_frame", "rerun")
CARD_STATE = {"info": CardInfo, "live": CardLive}


def parse(content: Any) -> dict[str, Any] | None:
    """The message as a dict when its type is known and its keys are there, else None (logged).

    Unknown types are logged, never silently dropped: a page and kernel out of step (an old
    bundle after an upgrade) must be visible in the log.
    """
    if not isinstance(content, dict):
        log.warning("seedance_widgets: ignored a non-object message %r", content)
        return None
    kind = content.get("type")
    keys = TO_KERNEL.get(kind) if isinstance(kind, str) else None
    if keys is None:
        log.warning("seedance_widgets: unknown message type %r from the page", kind)
        return None
    missing = [k for k in keys if k not in content and (kind, k) not in OPTIONAL]
    if missing:
        log.warning("seedance_widgets: %s message without %s", kind, ", ".join(missing))
        return None
    return content
