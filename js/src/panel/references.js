// @ts-check
/**
 * The reference drop zone of reference-to-video: images (dropped files go to the kernel,
 * which decodes them), video and audio files (kept by the kernel until Upload publishes them
 * on the media host), links to images, videos and audio, each with its `@image1`-style tag.
 * `asset://` ids stand only for images (the contract). Reordering or removing one sends the
 * new list; the kernel renumbers the tags in the prompt so each still names the same one.
 */
import { h, fill, setText, safeSrc } from "../dom.js";
import { makeDropTarget, guessKind, nameOf, newKey } from "./drop.js";

const KINDS = ["image", "video", "audio"];

/**
 * @param {{fs: import("./state.js").FormState, upload: (file: File, target: string) => void,
 *   dropMedia: (file: File, target: string) => void,
 *   previewOf: (url: string, name?: string) => string, insertTag: (tag: string) => void,
 *   limits: () => Record<string, number>, extras: import("./materials.js").Materials}} ctx
 */
export function createReferences({ fs, upload, dropMedia, previewOf, insertTag, limits, extras }) {
  let key = "";
  const urlInput = h("input", {
    type: "text", testid: "reference-url-input", spellcheck: "false", placeholder: "Image, video or audio URL, or an image's asset://…",
    onkeydown: (/** @type {KeyboardEvent} */ e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        addTyped();
      }
    },
  });
  const msg = h("div", { class: "sw-zone-msg", role: "status" });
  const counts = h("div", { class: "sw-muted sw-small" });
  const list = h("ol", { class: "sw-refs" });
  const pick = h("input", {
    type: "file", accept: "image/*,video/*,audio/*", multiple: true, hidden: true, testid: "reference-file-input",
    onchange: () => {
      for (const f of Array.from(pick.files || [])) takeFile(f);
      pick.value = "";
    },
  });
  const zone = h("div", { class: "sw-zone", testid: "drop-zone", tabindex: 0 },
    h("div", { class: "sw-zone-hint" }, "Drop images, video or audio files, or links here, or ",
      h("button", { type: "button", class: "sw-link", onclick: () => pick.click() }, "browse files"), pick),
    h("div", { class: "sw-row sw-nowrap" }, urlInput, h("button", { type: "button", class: "sw-btn", onclick: addTyped }, "Add")),
    msg, counts, list);
  makeDropTarget(zone, addUrls, takeFile);
  const errs = h("div", { class: "sw-errs" });
  const wrap = h("div", { class: "sw-field sw-wide" }, h("span", { class: "sw-label" }, "References"), zone, errs);

  function refs() {
    return /** @type {import("../protocol.js").Ref[]} */ (Array.isArray(fs.form.references) ? fs.form.references : []);
  }

  /** @param {import("../protocol.js").Ref[]} next */
  function setRefs(next) {
    fs.flush(); // the kernel renumbers tags in the prompt it has: give it the latest one
    fs.edit("references", next);
    sync();
  }

  /** @param {string[]} urls */
  function addUrls(urls) {
    setText(msg, "");
    setRefs([...refs(), ...urls.map((url) => ({ key: newKey(), kind: /** @type {any} */ (guessKind(url)), url, name: nameOf(url) }))]);
  }

  function addTyped() {
    const v = urlInput.value.trim();
    if (!v) return;
    urlInput.value = "";
    addUrls([v]);
  }

  /** @param {File} file */
  function takeFile(file) {
    setText(msg, "");
    if (/^(video|audio)\//.test(file.type)) dropMedia(file, "references");
    else if (!file.type.startsWith("image/")) setText(msg, `${file.name}: not an image`);
    else upload(file, "references");
  }

  /** @param {import("../protocol.js").Ref} r */
  function thumb(r) {
    const url = String(r.url || "");
    const src = previewOf(url, r.name) || safeSrc(url);
    if (!src) return h("div", { class: "sw-thumb sw-placeholder", title: url }, r.kind);
    if (r.kind === "video") return h("video", { class: "sw-thumb", src, muted: true, preload: "metadata", playsinline: true });
    if (r.kind === "audio") return h("audio", { class: "sw-audio", src, controls: true, preload: "none" });
    return h("img", { class: "sw-thumb", src, alt: r.name || "" });
  }

  /**
   * @param {import("../protocol.js").Ref} r
   * @param {number} i
   * @param {import("../protocol.js").Ref[]} all
   */
  function item(r, i, all) {
    const nth = all.slice(0, i + 1).filter((x) => x.kind === r.kind).length;
    const tag = `@${r.kind}${nth}`;
    const kind = h("select", {
      "aria-label": "Kind", class: "sw-kind",
      onchange: () => setRefs(all.map((x, j) => (j === i ? { ...x, kind: kind.value } : x))),
    }, KINDS.map((k) => h("option", { value: k, selected: k === r.kind }, k)));
    return h("li", { class: "sw-ref", testid: "reference-item" },
      thumb(r),
      h("div", { class: "sw-ref-body" },
        h("div", { class: "sw-ref-name", title: r.url }, r.name || r.url),
        h("div", { class: "sw-row" }, kind,
          h("button", { type: "button", class: "sw-btn sw-tag", testid: "reference-insert-tag", title: "Insert this tag into the prompt", onclick: () => insertTag(tag) }, tag)),
        extras.slot(r.key)),
      h("button", { type: "button", class: "sw-icon", testid: "reference-up", "aria-label": "Move up", title: "Move up", disabled: i === 0,
        onclick: () => setRefs(all.map((x, j) => (j === i - 1 ? all[i] : j === i ? all[i - 1] : x))) }, "↑"),
      h("button", { type: "button", class: "sw-icon", testid: "reference-remove", "aria-label": "Remove", title: "Remove",
        onclick: () => setRefs(all.filter((_, j) => j !== i)) }, "✕"));
  }

  function sync() {
    const all = refs();
    const lim = limits();
    const count = (/** @type {string} */ k) => all.filter((r) => r.kind === k).length;
    const part = (/** @type {string} */ label, /** @type {number} */ n, /** @type {number|undefined} */ max) =>
      h("span", { class: max != null && n > max ? "sw-over" : "" }, max != null ? `${label} ${n}/${max}` : `${label} ${n}`);
    fill(counts, part("Images", count("image"), lim.images), " · ", part("Videos", count("video"), lim.videos), " · ",
      part("Audio", count("audio"), lim.audios), " · ", part("All", all.length, lim.files));
    const next = JSON.stringify(all);
    if (next === key) return; // unchanged: keep thumbnails (and their loaded media) as they are
    key = next;
    fill(list, all.map(item));
  }

  return { control: { wrap, input: zone, errs }, sync, note: (/** @type {string} */ t) => setText(msg, t), urlInput };
}
