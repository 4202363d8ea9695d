"""The panel's form rules as pure functions: no widget, no kernel, no network."""

from __future__ import annotations

import pytest

from seedance_widgets import default_catalog
from seedance_widgets.widgets import _form as form
from seedance_widgets.widgets._uploads import UploadRefused, decode_image

CAT = default_catalog()


def test_keyword_inputs_imply_their_operation_and_are_never_dropped() -> None:
    f = form.form_from_fields({"prompt": "a cat", "image_url": "https://x.test/a.png"})
    assert f["operation"] == "image-to-video" and f["image_url"] == "https://x.test/a.png"
    assert form.request_data(f)["image_url"] == "https://x.test/a.png"
    refs = form.form_from_fields({"reference_images": ["https://x.test/a.png"],
                                  "video_urls": ["https://x.test/v.mp4"]})
    assert refs["operation"] == "reference-to-video"
    assert [r["kind"] for r in refs["references"]] == ["image", "video"]
    with pytest.raises(ValueError, match="image_url is not an input of text-to-video"):
        form.form_from_fields({"operation": "text-to-video", "image_url": "https://x.test/a"})
    with pytest.raises(ValueError, match="different operations"):
        form.form_from_fields({"image_url": "https://x.test/a", "task_id": "t1"})
    with pytest.raises(TypeError, match="did you mean 'prompt'"):
        form.form_from_fields({"promt": "x"})


def test_a_given_seed_is_locked_and_sent_an_unlocked_one_is_not() -> None:
    f = form.form_from_fields({"prompt": "a cat", "seed": -1})
    assert f["seed_locked"] and form.request_data(f)["seed"] == -1
    assert "seed" not in form.request_data({**f, "seed_locked": False})
    req, errors = form.validate({**f, "seed": -1}, CAT)
    assert req is not None and errors == {} and req.seed == -1


def test_errors_are_mapped_to_form_fields() -> None:
    f = form.form_from_fields({"prompt": "  ", "operation": "reference-to-video"})
    req, errors = form.validate({**f, "references": [form.make_ref("audio", "https://x/a.mp3")]},
                                CAT)
    assert req is None and "prompt" in errors and "references" in errors


def test_price_shows_whenever_the_fields_that_decide_it_are_valid() -> None:
    f = form.form_from_fields({"model": "seedance-2.0", "prompt": ""})  # no prompt yet
    est = form.estimate(f, CAT)
    assert est is not None and est.usd is not None
    assert form.estimate({**f, "resolution": "8k"}, CAT) is None
    assert "resolution" in (form.price_fields_problem({**f, "resolution": "8k"},
                                                      CAT.get("seedance-2.0")) or "")


def test_extension_price_uses_the_known_source_length() -> None:
    f = form.form_from_fields({"model": "seedance-2.0", "operation": "video-extension",
                               "task_id": "t1", "duration": 5})
    unknown = form.estimate(f, CAT)
    known = form.estimate(f, CAT, input_video_seconds=5)
    assert unknown is not None and known is not None
    assert unknown.input_video_seconds == 15 and known.input_video_seconds == 5
    assert known.tokens < unknown.tokens


def test_switching_models_keeps_the_nearest_resolution_and_says_so() -> None:
    f = form.form_from_fields({"model": "seedance-2.0", "resolution": "1080p", "prompt": "p"})
    fitted, notes = form.fit_to_model({**f, "model": "seedance-2.0-fast"}, CAT)
    assert fitted["resolution"] == "720p" and "nearest, 720p" in notes[0]
    fitted, notes = form.fit_to_model({**f, "model": "seedance-2.0-fast",
                                       "resolution": "4k"}, CAT)
    assert fitted["resolution"] == "720p"
    same, none = form.fit_to_model(f, CAT)
    assert same["resolution"] == "1080p" and none == []


def test_reordering_references_renumbers_the_prompt_tags() -> None:
    a, b, v = (form.make_ref("image", "https://x/a.png"), form.make_ref("image", "https://x/b.png"),
               form.make_ref("video", "https://x/v.mp4"))
    prompt = "@image1 walks into @image2, then @video1 plays; @image3 is not ours"
    assert form.renumber_tags(prompt, [a, b, v], [b, a, v]) == (
        "@image2 walks into @image1, then @video1 plays; @image3 is not ours")
    assert form.renumber_tags("@image2 only", [a, b], [b]) == "@image1 only"
    assert form.renumber_tags(prompt, [a, b, v], [a, b, v]) == prompt


def test_generate_reason_names_what_is_missing() -> None:
    f = form.form_from_fields({"prompt": ""})
    est = form.estimate(f, CAT)
    state = form.generate_state(form=f, errors={}, price=est, cap_usd=None, spent_usd=0,
                                busy=False)
    assert not state["enabled"] and "prompt" in state["reason"]
    f = {**f, "prompt": "a cat"}
    over = form.generate_state(form=f, errors={}, price=est, cap_usd=0.10, spent_usd=0,
                               busy=False)
    assert not over["enabled"] and "over budget" in over["reason"]
    mini = form.form_from_fields({"model": "seedance-2.0-mini", "prompt": "p"})
    unknown = form.generate_state(form=mini, errors={}, price=form.estimate(mini, CAT),
                                  cap_usd=5.0, spent_usd=0, busy=False)
    assert not unknown["enabled"] and "price is unknown" in unknown["reason"]
    ok = form.generate_state(form=f, errors={}, price=est, cap_usd=5.0, spent_usd=0,
                             busy=False)
    assert ok["enabled"] and ok["reason"] == "" and ok["label"].startswith("Generate · ≈ $")


def test_dropped_files_are_decoded_before_they_are_accepted() -> None:
    import io

    from PIL import Image

    with pytest.raises(UploadRefused, match="not a readable PNG"):
        decode_image("zeros.png", "image/png", b"\x00" * 500)
    with pytest.raises(UploadRefused, match="only image files"):
        decode_image("clip.mp4", "video/mp4", b"x")
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "JPEG")
    key, url = decode_image("really-a-jpeg.png", "image/png", buf.getvalue())
    assert len(key) == 16 and url.startswith("data:image/jpeg;base64,")
