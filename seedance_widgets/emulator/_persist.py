"""The emulator's state dir: tasks, their result files and the URL-signing key on disk.

With a state dir, a new Emulator on the same folder (a restarted kernel in demo mode) carries
on with earlier tasks and its signed URLs keep working. File names are always built from ids
the emulator made itself and checked against their pattern, never from what a client sent.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import secrets
from pathlib import Path

from .._catalog import Catalog
from .._files import write_atomic
from .._request import VideoRequest
from ._task import LAST_FRAME_SUFFIX, PERSISTED, VIDEO_SUFFIX, Task

logger = logging.getLogger("seedance_widgets.emulator")

TASK_ID = re.compile(r"^ldtask_[0-9a-f]{32}$")


def load_url_key(state_dir: Path | None) -> bytes:
    """The per-emulator URL-signing secret; kept in the state dir when there is one."""
    if state_dir is None:
        return secrets.token_bytes(32)
    path = state_dir / "url.key"
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def save_task(state_dir: Path, task: Task, *, files: bool = False) -> None:
    """Write the task (and, after a render, its files) so a restart can pick it up."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        if files:
            for suffix, data in ((VIDEO_SUFFIX, task.video), (LAST_FRAME_SUFFIX, task.last_frame)):
                if data is not None:
                    write_atomic(state_dir / (task.id + suffix), data)
        record = {k: getattr(task, k) for k in PERSISTED}
        record["request"] = task.request.to_body()
        write_atomic(state_dir / f"{task.id}.json", json.dumps(record).encode())
    except OSError as exc:  # a full disk must not take the emulator down
        logger.warning("could not persist task %s: %s", task.id, exc)


def load_tasks(state_dir: Path, catalog: Catalog) -> list[Task]:
    """Every readable task in the state dir; a task whose video file is gone is re-rendered."""
    out = []
    fields = {f.name for f in dataclasses.fields(Task)}
    for path in sorted(state_dir.glob("ldtask_*.json")):
        if not TASK_ID.match(path.stem):
            continue
        try:
            record = json.loads(path.read_text())
            request = VideoRequest.model_validate(record.pop("request"),
                                                  context={"catalog": catalog})
            task = Task(request=request, **{k: v for k, v in record.items() if k in fields})
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("skipping unreadable emulator task %s: %s", path.name, exc)
            continue
        if task.id != path.stem:
            continue
        if task.rendered_at is not None and task.render_error is None \
                and not (state_dir / (task.id + VIDEO_SUFFIX)).is_file():
            task.rendered_at = None  # its file is gone: render again
        out.append(task)
    return out


def read_file(state_dir: Path | None, name: str) -> bytes | None:
    """A result file kept in the state dir, or None."""
    if state_dir is None:
        return None
    path = state_dir / name
    return path.read_bytes() if path.is_file() else None
