"""The widget layer: a generation panel, a live task card and a gallery of every run.

Data flow: `_form` (form <-> request, pure) and `_tracker` (polling) feed `_card` (one child
model per task), which `_panel`, `_task_widget` and `_gallery` show; `_protocol` is the message
contract with `js/src/protocol.js`, and `_loop` hops comm callbacks onto the kernel's loop.
"""

from ._gallery import Gallery
from ._panel import SeedancePanel
from ._task_widget import TaskWidget

__all__ = ["Gallery", "SeedancePanel", "TaskWidget"]
