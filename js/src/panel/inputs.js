// @ts-check
/**
 * The inputs of the image, start-end, video and extension operations. Image fields take a URL
 * or a dropped image (sent to the kernel, which decodes it before accepting it). "Task to
 * extend" is a picker of finished tasks; a typed id still works.
 */
import { h, show, safeSrc, setSrc, setOptions } from "../dom.js";
import { field, setValue } from "./ui.js";
import { makeDropTarget } from "./drop.js";

const IMAGE_INPUTS = /** @type {[string, string, string][]} */ ([
  ["image_url", "Image", "image-url"],
  ["start_image", "Start image", "start-image"],
  ["end_image", "End image", "end-image"],
]);
const OTHER = "__other__";
export const INPUT_KEYS = ["image_url", "start_image", "end_image", "video_url", "task_id"];

/**
 * @param {{fs: import("./state.js").FormState, upload: (file: File, target: string) => void,
 *   dropMedia: (file: File, target: string) => void, previewOf: (url: string) => string,
 *   extras: import("./materials.js").Materials}} ctx
 */
export function createInputs({ fs, upload, dropMedia, previewOf, extras }) {
  /** @type {Record<string, import("./ui.js").Control>} */
  const c = {};
  /** @type {Record<string, HTMLImageElement>} */
  const previews = {};
  for (const [key, label, testid] of IMAGE_INPUTS) {
    const input = h("input", {
      type: "text", testid, spellcheck: "false", placeholder: "https://…, asset://… or drop an image here",
      oninput: () => fs.edit(key, input.value.trim(), true),
    });
    c[key] = field(label, input, "sw-wide");
    previews[key] = h("img", { class: "sw-thumb", alt: "", hidden: true });
    c[key].wrap.insertBefore(previews[key], c[key].errs);
    c[key].wrap.insertBefore(extras.slot(key), c[key].errs);
    makeDropTarget(input, (urls) => fs.edit(key, urls[0]), (file) => upload(file, key));
  }
  // asset:// ids stand only for images (the contract), so this takes a public URL or a file.
  const video = h("input", {
    type: "text", testid: "video-url", spellcheck: "false", placeholder: "https://… (a public video URL) or drop a video file",
    oninput: () => fs.edit("video_url", video.value.trim(), true),
  });
  c.video_url = field("Video URL", video, "sw-wide");
  c.video_url.wrap.insertBefore(extras.slot("video_url"), c.video_url.errs);
  makeDropTarget(video, (urls) => fs.edit("video_url", urls[0]), (file) => dropMedia(file, "video_url"));

  const picker = h("select", {
    testid: "task-id", "aria-label": "Task to extend",
    onchange: () => {
      if (picker.value === OTHER) {
        show(typed, true);
        typed.focus();
      } else fs.edit("task_id", picker.value);
    },
  });
  const typed = h("input", {
    type: "text", testid: "task-id-input", spellcheck: "false", placeholder: "or paste a task id",
    oninput: () => fs.edit("task_id", typed.value.trim(), true),
  });
  c.task_id = field("Task to extend", h("div", { class: "sw-row sw-nowrap" }, picker, typed), "sw-wide");
  c.task_id.input = picker;

  /**
   * @param {Set<string>} shown inputs of the current operation
   * @param {import("../protocol.js").SourceOption[]} sources
   */
  function sync(shown, sources) {
    const f = fs.form;
    for (const k of INPUT_KEYS) show(c[k].wrap, shown.has(k));
    for (const [key] of IMAGE_INPUTS) {
      setValue(/** @type {HTMLInputElement} */ (c[key].input), fs.pending.has(key), f[key] || "");
      const v = String(f[key] || "");
      const src = previewOf(v) || safeSrc(v);
      show(previews[key], !!src);
      setSrc(previews[key], src);
    }
    setValue(video, fs.pending.has("video_url"), f.video_url || "");
    const id = String(f.task_id || "");
    const known = sources.some((s) => s.id === id);
    const opts = /** @type {[string, string][]} */ ([["", sources.length ? "Pick a finished task…" : "No finished task yet"],
      ...sources.map((s) => /** @type {[string, string]} */ ([s.id, `${s.label}${s.duration ? ` · ${s.duration} s` : ""}`])),
      [OTHER, "Another task id…"]]);
    setOptions(picker, opts, known || !id ? id : OTHER);
    if (!known && id) show(typed, true);
    else if (picker.value !== OTHER) show(typed, false);
    setValue(typed, fs.pending.has("task_id"), known ? "" : id);
  }

  /**
   * @param {string} target
   * @param {string} text
   */
  function note(target, text) {
    if (c[target]) c[target].errs.replaceChildren(h("div", { class: "sw-field-error" }, text));
  }

  return { controls: c, sync, note };
}
