"""The validation matrix of VideoRequest: every rule, accepting and refusing side."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from seedance_widgets import Catalog, VideoRequest
from seedance_widgets._catalog import DEFAULT_MODELS, OPERATIONS

from .contract import check

MODELS = [m.id for m in DEFAULT_MODELS]
IMG = "https://example.com/a.png"
IMG2 = "https://example.com/b.jpg"
VID = "https://example.com/clip.mp4"
AUD = "https://example.com/voice.mp3"
ASSET = "asset://asset-20260720123456-abc12"
DATA_IMG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4"
            "DwABBAEAcCBlCwAAAABJRU5ErkJggg==")

VALID_BY_OPERATION: dict[str, dict[str, Any]] = {
    "text-to-video": {"prompt": "a cat on a skateboard", "duration": 5, "resolution": "720p",
                      "aspect_ratio": "16:9", "seed": 42, "output_audio": True},
    "image-to-video": {"prompt": "bring it to life", "image_url": IMG, "duration": 4},
    "start-end-to-video": {"prompt": "morph", "start_image": IMG, "end_image": ASSET,
                           "return_last_frame": True},
    "reference-to-video": {"prompt": "same product, slow spin", "reference_images": [IMG, IMG2],
                           "video_urls": [VID], "audio_urls": [AUD], "duration": -1},
    "video-to-video": {"prompt": "make it snow", "video_url": VID, "aspect_ratio": "adaptive"},
    "video-extension": {"task_id": "ldtask_abc", "prompt": "keep going", "duration": 6},
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_operation_has_an_accepted_example(model: str, operation: str) -> None:
    req = VideoRequest(model=model, operation=operation, **VALID_BY_OPERATION[operation])
    body = req.to_body()
    assert body["model"] == model and body["operation"] == operation
    assert None not in body.values()
    check("VideoGenerationRequest", body)


def test_body_has_canonical_names_and_no_nulls() -> None:
    req = VideoRequest.model_validate({"model": "seedance-2.0", "prompt": "pq", "ratio": "9:16",
                                       "seconds": 8, "generate_audio": False,
                                       "outputAudio": False})
    assert req.to_body() == {"model": "seedance-2.0", "operation": "text-to-video", "prompt": "pq",
                             "duration": 8, "aspect_ratio": "9:16", "output_audio": False}


def test_alias_and_field_that_agree_are_accepted() -> None:
    req = VideoRequest.model_validate({"model": "seedance-2.0", "prompt": "pq", "ratio": "1:1",
                                       "aspect_ratio": "1:1", "seconds": 4, "duration": 4})
    assert (req.aspect_ratio, req.duration) == ("1:1", 4)


@pytest.mark.parametrize(("inputs", "operation"), [
    ({"prompt": "pq"}, "text-to-video"),
    ({"prompt": "pq", "image_url": IMG}, "image-to-video"),
    ({"prompt": "pq", "start_image": IMG, "end_image": IMG2}, "start-end-to-video"),
    ({"prompt": "pq", "reference_images": [IMG]}, "reference-to-video"),
    ({"prompt": "pq", "video_url": VID}, "video-to-video"),
    ({"task_id": "t1"}, "video-extension"),
])
def test_operation_is_inferred_then_sent_explicitly(inputs: dict, operation: str) -> None:
    assert VideoRequest(model="seedance-2.0", **inputs).to_body()["operation"] == operation


def test_accepted_edges() -> None:
    base = {"model": "seedance-2.0", "prompt": "pq"}
    for d in (-1, 4, 15):
        VideoRequest(**base, duration=d)
    for s in (-1, 0, 4294967295):
        VideoRequest(**base, seed=s)
    VideoRequest(**base, resolution="4k")
    VideoRequest(model="seedance-2.0-mini", prompt="pq", resolution="480p")
    VideoRequest(**base | {"prompt": "x" * 3000})
    VideoRequest(model="seedance-2.0", operation="image-to-video", prompt="pq", image=DATA_IMG)
    VideoRequest(model="seedance-2.0", operation="image-to-video", prompt="pq", image_url=DATA_IMG)
    VideoRequest(model="seedance-2.0", operation="image-to-video", prompt="pq", image_url=ASSET)
    VideoRequest(model="seedance-2.0", operation="reference-to-video", prompt="pq",
                 reference_images=[IMG] * 9, video_urls=[VID] * 3)
    VideoRequest(model="seedance-2.0", operation="reference-to-video", prompt="pq",
                 video_urls=[VID], audio_urls=[AUD] * 3)
    VideoRequest(model="seedance-2.0", operation="reference-to-video", prompt="pq",
                 reference_images=[IMG] * 6, video_urls=[VID] * 3, audio_urls=[AUD] * 3)
    VideoRequest(model="seedance-2.0", operation="reference-to-video", prompt="pq",
                 material_asset_ids=["asset-20260720123456-auto1"])
    VideoRequest(**base, service_tier="default", priority=9, execution_expires_after=3600,
                 watermark=True, user="u1", safety_identifier="s" * 128)


T2V = {"model": "seedance-2.0", "operation": "text-to-video", "prompt": "a cat"}
I2V = {"model": "seedance-2.0", "operation": "image-to-video", "prompt": "pq"}
SE = {"model": "seedance-2.0", "operation": "start-end-to-video", "prompt": "pq"}
R2V = {"model": "seedance-2.0", "operation": "reference-to-video", "prompt": "pq"}
V2V = {"model": "seedance-2.0", "operation": "video-to-video", "prompt": "pq"}
EXT = {"model": "seedance-2.0", "operation": "video-extension"}

# (id, request, field the error must name, words the message must contain)
INVALID: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    ("fast-1080p", {**T2V, "model": "seedance-2.0-fast", "resolution": "1080p"}, "resolution",
     ("480p", "720p")),
    ("fast-4k", {**T2V, "model": "seedance-2.0-fast", "resolution": "4k"}, "resolution",
     ("480p", "720p")),
    ("mini-1080p", {**T2V, "model": "seedance-2.0-mini", "resolution": "1080p"}, "resolution",
     ("480p", "720p")),
    ("mini-4k", {**T2V, "model": "seedance-2.0-mini", "resolution": "4k"}, "resolution",
     ("720p",)),
    ("resolution-unknown", {**T2V, "resolution": "2k"}, "resolution", ("480p", "1080p", "4k")),
    ("model-unknown", {**T2V, "model": "seedance-3"}, "model", ("seedance-2.0-fast",)),
    ("model-typo", {**T2V, "model": "seedance-2.0-fsat"}, "model", ("did you mean",)),
    ("operation-unknown", {**T2V, "operation": "audio-to-video"}, "operation",
     ("text-to-video", "video-extension")),
    ("operation-motion", {**T2V, "operation": "motion-control"}, "operation",
     ("reference-to-video",)),
    ("duration-3", {**T2V, "duration": 3}, "duration", ("4-15", "-1")),
    ("duration-16", {**T2V, "duration": 16}, "duration", ("4-15",)),
    ("duration-0", {**T2V, "duration": 0}, "duration", ("4-15",)),
    ("duration-fraction", {**T2V, "duration": 5.5}, "duration", ()),
    ("seconds-alias-range", {**T2V, "seconds": 60}, "duration", ("4-15",)),
    ("aspect-unknown", {**T2V, "aspect_ratio": "2:1"}, "aspect_ratio", ("16:9", "21:9")),
    ("ratio-alias-unknown", {**T2V, "ratio": "5:4"}, "aspect_ratio", ("adaptive",)),
    ("ratio-mismatch", {**T2V, "ratio": "1:1", "aspect_ratio": "16:9"}, "ratio",
     ("aspect_ratio",)),
    ("seconds-mismatch", {**T2V, "seconds": 4, "duration": 5}, "seconds", ("duration",)),
    ("audio-alias-mismatch", {**T2V, "generate_audio": True, "output_audio": False},
     "generate_audio", ("output_audio",)),
    ("outputAudio-mismatch", {**T2V, "outputAudio": False, "output_audio": True},
     "outputAudio", ("output_audio",)),
    ("seed-low", {**T2V, "seed": -2}, "seed", ("-1",)),
    ("seed-high", {**T2V, "seed": 4294967296}, "seed", ("4294967295",)),
    ("prompt-missing", {k: v for k, v in T2V.items() if k != "prompt"}, "prompt", ("required",)),
    ("prompt-blank", {**T2V, "prompt": "   "}, "prompt", ("blank",)),
    ("prompt-too-long", {**T2V, "prompt": "x" * 3001}, "prompt", ("3000",)),
    ("unknown-field", {**T2V, "promt": "x"}, "promt", ("did you mean 'prompt'",)),
    ("unknown-field-2", {**T2V, "resolutoin": "720p"}, "resolutoin", ("resolution",)),
    ("not-for-seedance-frames", {**T2V, "frames": 48}, "frames", ("Seedance 2.0",)),
    ("not-for-seedance-camera", {**T2V, "camera_fixed": True}, "camera_fixed", ("Seedance",)),
    ("not-for-seedance-draft", {**T2V, "draft": True}, "draft", ("1.5 Pro",)),
    ("t2v-with-image", {**T2V, "image_url": IMG}, "image_url", ("image-to-video",)),
    ("t2v-with-video", {**T2V, "video_url": VID}, "video_url", ("video-to-video",)),
    ("t2v-with-refs", {**T2V, "reference_images": [IMG]}, "reference_images",
     ("reference-to-video",)),
    ("i2v-no-image", I2V, "image_url", ("exactly one",)),
    ("i2v-two-images", {**I2V, "image_url": IMG, "image": DATA_IMG}, "image_url", ("not both",)),
    ("i2v-with-end", {**I2V, "image_url": IMG, "end_image": IMG2}, "end_image",
     ("start-end-to-video",)),
    ("se-no-end", {**SE, "start_image": IMG}, "end_image", ("required",)),
    ("se-no-start", {**SE, "end_image": IMG}, "start_image", ("required",)),
    ("se-with-refs", {**SE, "start_image": IMG, "end_image": IMG2, "reference_images": [IMG]},
     "reference_images", ("reference-to-video",)),
    ("r2v-nothing", R2V, "reference_images", ("at least one",)),
    ("r2v-audio-only", {**R2V, "audio_urls": [AUD]}, "audio_urls", ("image or video",)),
    ("r2v-10-images", {**R2V, "reference_images": [IMG] * 10}, "reference_images", ("9",)),
    ("r2v-4-videos", {**R2V, "video_urls": [VID] * 4}, "video_urls", ("3",)),
    ("r2v-4-audios", {**R2V, "video_urls": [VID], "audio_urls": [AUD] * 4}, "audio_urls",
     ("3",)),
    ("r2v-13-files", {**R2V, "reference_images": [IMG] * 9, "video_urls": [VID] * 3,
                      "audio_urls": [AUD]}, "reference_images", ("12",)),
    ("r2v-with-first-frame", {**R2V, "reference_images": [IMG], "start_image": IMG2},
     "start_image", ("first/last-frame",)),
    ("r2v-with-image-url", {**R2V, "reference_images": [IMG], "image_url": IMG2}, "image_url",
     ("first/last-frame",)),
    ("r2v-empty-list", {**R2V, "reference_images": [], "video_urls": [VID]}, "reference_images",
     ("empty",)),
    ("v2v-no-video", V2V, "video_url", ("required",)),
    ("v2v-with-image", {**V2V, "video_url": VID, "image_url": IMG}, "image_url",
     ("image-to-video",)),
    ("ext-no-task", EXT, "task_id", ("required",)),
    ("ext-blank-task", {**EXT, "task_id": "  "}, "task_id", ("required",)),
    ("ext-with-video", {**EXT, "task_id": "t", "video_url": VID}, "video_url",
     ("video-to-video",)),
    ("scheme-javascript", {**I2V, "image_url": "javascript:alert(1)"}, "image_url",
     ("http(s)",)),
    ("scheme-file", {**I2V, "image_url": "file:///etc/passwd"}, "image_url", ("http(s)",)),
    ("scheme-ftp-video", {**V2V, "video_url": "ftp://x/y.mp4"}, "video_url", ("http(s)",)),
    ("data-url-for-video", {**V2V, "video_url": "data:video/mp4;base64,AAAA"}, "video_url",
     ("http(s)",)),
    ("data-url-not-image", {**I2V, "image_url": "data:text/html;base64,PGI+"}, "image_url",
     ("data:image",)),
    ("data-url-bad-type", {**I2V, "image_url": "data:image/svg+xml;base64,PHN2Zz4="},
     "image_url", ("png",)),
    ("asset-for-video", {**V2V, "video_url": ASSET}, "video_url", ("http(s)",)),
    ("asset-for-audio", {**R2V, "video_urls": [VID], "audio_urls": [ASSET]}, "audio_urls",
     ("http(s)",)),
    ("asset-malformed", {**I2V, "image_url": "asset://nope"}, "image_url",
     ("asset-YYYYMMDDHHMMSS",)),
    ("material-id-malformed", {**R2V, "material_asset_ids": ["x"]}, "material_asset_ids",
     ("asset-YYYYMMDDHHMMSS",)),
    ("http-no-host", {**I2V, "image_url": "https://"}, "image_url", ("valid URL",)),
    ("image-field-http", {**I2V, "image": IMG}, "image", ("data:image",)),
    ("ref-javascript", {**R2V, "reference_images": [IMG, "javascript:x"]}, "reference_images",
     ("reference_images[1]",)),
    ("service-tier-flex", {**T2V, "service_tier": "flex"}, "service_tier", ("default",)),
    ("priority-high", {**T2V, "priority": 10}, "priority", ("9",)),
    ("expiry-low", {**T2V, "execution_expires_after": 60}, "execution_expires_after",
     ("3600",)),
    ("resolution-operation-ok-model-not", {**R2V, "model": "seedance-2.0-fast",
                                           "reference_images": [IMG], "resolution": "4k"},
     "resolution", ("480p", "720p")),
]


@pytest.mark.parametrize(("request_data", "field", "words"),
                         [pytest.param(r, f, w, id=i) for i, r, f, w in INVALID])
def test_invalid_requests_are_refused_naming_the_field(
        request_data: dict[str, Any], field: str, words: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        VideoRequest.model_validate(request_data)
    errors = info.value.errors()
    at_field = [e for e in errors if e["loc"] and e["loc"][0] == field]
    assert at_field, f"no error located at {field!r}: {errors}"
    text = str(info.value)
    assert field in text
    for word in words:
        assert any(word in e["msg"] for e in at_field), f"{word!r} not in {at_field}"


def test_at_least_forty_distinct_invalid_requests() -> None:
    assert len({i for i, *_ in INVALID}) == len(INVALID) >= 40


def test_acceptance_example_fast_1080p() -> None:
    with pytest.raises(ValidationError) as info:
        VideoRequest(model="seedance-2.0-fast", operation="text-to-video", prompt="a cat",
                     resolution="1080p")
    text = str(info.value)
    assert "resolution" in text and "480p" in text and "720p" in text


def test_validation_follows_a_refreshed_catalog() -> None:
    catalog = Catalog()
    catalog.update_from_detail({
        "id": "seedance-2.0-mini",
        "tokenlab": {"request_format_summary": {
            "resolutions": ["480p"], "durations": ["4", "5", "6"],
            "public_operations": ["text-to-video"],
            "service_limits": {"prompt_max_characters": 10},
        }},
    })
    ctx = {"catalog": catalog}
    ok = {"model": "seedance-2.0-mini", "prompt": "short", "resolution": "480p", "duration": 5}
    VideoRequest.model_validate(ok, context=ctx)
    VideoRequest.model_validate({**ok, "resolution": "720p"})  # the shared catalog is unchanged
    for change, field in [({"resolution": "720p"}, "resolution"), ({"duration": 8}, "duration"),
                          ({"prompt": "far too long"}, "prompt"),
                          ({"operation": "image-to-video", "image_url": IMG}, "operation")]:
        with pytest.raises(ValidationError) as info:
            VideoRequest.model_validate({**ok, **change}, context=ctx)
        assert info.value.errors()[0]["loc"] == (field,)


def test_unknown_model_is_accepted_once_the_catalog_knows_it() -> None:
    catalog = Catalog()
    data = {"model": "seedance-2.1", "prompt": "pq"}
    with pytest.raises(ValidationError):
        VideoRequest.model_validate(data, context={"catalog": catalog})
    catalog.update_from_detail({"id": "seedance-2.1", "tokenlab": {"request_format_summary": {
        "resolutions": ["720p"], "public_operations": ["text-to-video"]}}})
    VideoRequest.model_validate(data, context={"catalog": catalog})


def test_replace_revalidates() -> None:
    req = VideoRequest(model="seedance-2.0", prompt="pq", resolution="1080p")
    assert req.replace(prompt="qr").prompt == "qr"
    with pytest.raises(ValidationError):
        req.replace(model="seedance-2.0-fast")


def test_requests_are_immutable_and_fingerprints_stable() -> None:
    a = VideoRequest(model="seedance-2.0", prompt="pq", duration=5)
    b = VideoRequest.model_validate({"seconds": 5, "prompt": "pq", "model": "seedance-2.0"})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != a.replace(duration=6).fingerprint()
    with pytest.raises(ValidationError):
        a.prompt = "changed"  # type: ignore[misc]
