"""What the history tests share: a task added the way the client adds one."""

from __future__ import annotations

from seedance_widgets import History, Task

MODELS = ("seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini")
ANIMALS = ("fox", "cat", "horse", "frog", "rabbit", "kite")


class BilledTask(Task):
    """A Task as issue #10 extends it: billing_transaction_id is read when present."""

    billing_transaction_id: str | None = None


def add(h: History, i: int, *, status: str = "completed", model: str = "seedance-2.0-fast",
        operation: str = "text-to-video", prompt: str | None = None, server: str = "srv",
        cancelled: bool = False, cost: float | None = 0.25) -> str:
    task_id = f"ldtask_{i:04d}"
    req = {"model": model, "operation": operation,
           "prompt": prompt or f"run {i}: a {ANIMALS[i % len(ANIMALS)]} over a hill"}
    h.submitting(attempt=f"att{i}", server=server, request=req, fingerprint=f"fp{i}")
    h.created(Task(id=task_id, model=model), attempt=f"att{i}", server=server, request=req,
              fingerprint=f"fp{i}")
    h.record(Task(id=task_id, status=status, progress=100 if status == "completed" else 40,
                  cancelled=cancelled, cost_usd=cost,
                  video_url=f"https://cdn.example/{task_id}.mp4"
                  if status == "completed" else None))
    return task_id
