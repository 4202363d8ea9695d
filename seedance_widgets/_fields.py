"""The names a Seedance 2.0 create body may use, and which inputs belong to which operation.

`VideoRequest` folds the aliases, names the fields of other model families and refuses the
inputs of another operation from these tables; the panel's form shows each operation's inputs
from them, and the emulator describes them in its model details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Alias -> canonical field. The contract accepts these and requires them to agree.
ALIASES: dict[str, str] = {
    "ratio": "aspect_ratio",
    "seconds": "duration",
    "generate_audio": "output_audio",
    "outputAudio": "output_audio",
}

# Contract fields that exist for other model families; Seedance 2.0 refuses or ignores them,
# so sending one is a mistake worth naming rather than a typo worth a did-you-mean.
NOT_FOR_SEEDANCE: dict[str, str] = {
    "frames": "Seedance 2.0 models do not support frames",
    "camera_fixed": "Seedance 2.0 models do not support camera_fixed",
    "draft": "draft is a Seedance 1.5 Pro workflow",
    "draft_task_id": "draft_task_id is a Seedance 1.5 Pro workflow",
    "kling_elements": "kling_elements is for kling-3.0-video",
    "cfg_scale": "Seedance 2.0 exposes no cfg_scale",
    "motion_strength": "Seedance 2.0 exposes no motion_strength",
    "fps": "Seedance 2.0 output is fixed at 24 fps",
    "negative_prompt": "Seedance 2.0 takes no negative_prompt; say what to avoid in the prompt",
    "size": "use resolution and aspect_ratio for Seedance 2.0",
    "image_urls": "use image_url (image-to-video) or reference_images (reference-to-video)",
    "audio_url": "use audio_urls inside reference-to-video",
    "effect_type": "Seedance 2.0 has no effect_type",
    "extend_at": "Seedance 2.0 video-extension takes task_id only",
    "extend_times": "Seedance 2.0 video-extension takes task_id only",
    "reference_image_type": "Seedance 2.0 does not distinguish reference image roles",
    "material_asset_id": "use asset://<id> in image_url, start_image, end_image or "
                         "reference_images",
}

# Which inputs each operation needs; every other input is refused for that operation.
OPERATION_INPUTS: dict[str, tuple[str, ...]] = {
    "text-to-video": (),
    "image-to-video": ("image_url", "image"),
    "start-end-to-video": ("start_image", "end_image"),
    "reference-to-video": ("reference_images", "material_asset_ids", "video_urls", "audio_urls"),
    "video-to-video": ("video_url",),
    "video-extension": ("task_id",),
}
INPUT_FIELDS: tuple[str, ...] = tuple(f for fs in OPERATION_INPUTS.values() for f in fs)
FIELD_OPERATION: dict[str, str] = {f: op for op, fs in OPERATION_INPUTS.items() for f in fs}

SERVICE_TIERS = ("default",)


def inferred_operation(body: Mapping[str, Any]) -> str:
    """The operation the inputs given imply, as the API infers it when none is named."""
    present = [f for f in INPUT_FIELDS if body.get(f) not in (None, [])]
    for op in ("video-extension", "video-to-video", "reference-to-video",
               "start-end-to-video", "image-to-video"):
        if any(FIELD_OPERATION[f] == op for f in present):
            return op
    return "text-to-video"
