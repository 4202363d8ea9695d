// @ts-check
/**
 * The generation form. Python owns validation, pricing and submission: this view only edits
 * the `form` trait (always as a whole new dict), shows `errors`/`price`/`budget`/`notice`,
 * and sends `submit` / `upload` messages. The latest task is shown under the form.
 */
import { h, fill, setText, show, safeSrc, debounce, fmtUsd } from "./dom.js";
import { createCard, createMedia, isTerminal } from "./card.js";

/** @typedef {{kind: string, url: string, name: string}} Ref */
/** @typedef {{id: string, resolutions?: string[], durations?: number[], aspect_ratios?: string[],
 *   operations?: string[], prompt_max_characters?: number, references?: Record<string, number>}} ModelInfo */

const OP_LABELS = /** @type {Record<string, string>} */ ({
  "text-to-video": "Text → video",
  "image-to-video": "Image → video",
  "start-end-to-video": "Start + end frame → video",
  "reference-to-video": "References → video",
  "video-to-video": "Video → video (edit)",
  "video-extension": "Extend a task's video",
});
const INPUTS = /** @type {[string, string, string][]} */ ([
  ["image_url", "Image", "image-url"],
  ["start_image", "Start image", "start-image"],
  ["end_image", "End image", "end-image"],
  ["video_url", "Video URL or asset://", "video-url"],
  ["task_id", "Task id to extend", "task-id"],
]);
const IMAGE_FIELDS = ["image_url", "start_image", "end_image"];
const KINDS = ["image", "video", "audio"];
const NO_FILES = "Video and audio need a URL or an asset:// material id (files are not uploaded)";

/** @param {string} url */
export function guessKind(url) {
  const path = url.split(/[?#]/)[0].toLowerCase();
  if (/\.(mp4|mov|webm)$/.test(path)) return "video";
  if (/\.(mp3|wav|m4a)$/.test(path)) return "audio";
  return "image";
}

/** @param {string} url */
function nameOf(url) {
  const seg = url.split(/[?#]/)[0].split("/").filter(Boolean).pop() || url;
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/**
 * URLs carried by a drag: text/uri-list (skipping # comments), else URL-looking plain text.
 * @param {DataTransfer} dt
 */
function droppedUrls(dt) {
  const list = dt.getData("text/uri-list");
  if (list) return list.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  return dt.getData("text/plain").split(/\s+/).filter((w) => /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(w));
}

/** @param {DragEvent} e */
function acceptDrag(e) {
  const types = Array.from(e.dataTransfer?.types || []);
  if (!types.some((t) => t === "Files" || t === "text/uri-list" || t === "text/plain")) return false;
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  return true;
}

/**
 * Render <option>s only when the list changes, so an open dropdown is not rebuilt under the
 * user. A value the list does not contain stays visible, marked, instead of silently vanishing.
 * @param {HTMLSelectElement} select
 * @param {[string, string][]} opts value/label pairs
 * @param {unknown} value
 */
function setOptions(select, opts, value) {
  const v = value == null ? "" : String(value);
  const all = opts.some(([o]) => o === v) || v === "" ? opts : [...opts, /** @type {[string, string]} */ ([v, `${v} (not available)`])];
  const key = JSON.stringify(all);
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    fill(select, all.map(([o, label]) => h("option", { value: o }, label)));
  }
  if (select.value !== v) select.value = v;
}

/**
 * @param {string} label
 * @param {HTMLElement} input
 * @param {string} [cls]
 */
function field(label, input, cls = "") {
  const errs = h("div", { class: "sw-errs" });
  const wrap = h("label", { class: `sw-field ${cls}` }, h("span", { class: "sw-label" }, label), input, errs);
  return { wrap, input, errs };
}

/**
 * @param {{model: any, el: HTMLElement, life: import("./dom.js").Life}} ctx
 */
export function renderPanel({ model, el, life }) {
  const media = createMedia(model, life);
  /** @type {Record<string, any>} */
  let form = { ...(model.get("form") || {}) };
  /** @type {Set<string>} keys edited locally and not yet written (typing) */
  const pending = new Set();
  const lock = { on: false, sawBusy: false, timer: /** @type {any} */ (0) };
  /** @type {Map<string, string>} dropped file name -> object URL, until Python adds upload:// */
  const byName = new Map();
  /** @type {Map<string, string>} field -> object URL of an image dropped on that field */
  const byField = new Map();
  /** @type {Map<string, string>} upload:// url -> object URL */
  const byUpload = new Map();
  let refsKey = "";

  const writer = debounce(write, 250);
  /** @type {Record<string, {wrap: HTMLElement, input: HTMLElement, errs: HTMLElement}>} */
  const controls = {};

  // ---- controls -------------------------------------------------------------------------
  const modelSel = h("select", { testid: "model", onchange: () => onModel(modelSel.value) });
  const opSel = h("select", { testid: "operation", onchange: () => onOperation(opSel.value) });
  const prompt = h("textarea", {
    testid: "prompt", rows: 4, placeholder: "Describe the video… (Ctrl/Cmd+Enter to generate)",
    oninput: () => {
      edit("prompt", prompt.value, true);
      updateCounter();
    },
    onkeydown: onPromptKey,
  });
  const counter = h("span", { class: "sw-counter", testid: "prompt-counter", "aria-live": "polite" });
  const resSel = h("select", { testid: "resolution", onchange: () => edit("resolution", resSel.value) });
  const durSel = h("select", { testid: "duration", onchange: () => edit("duration", parseInt(durSel.value, 10)) });
  const arSel = h("select", { testid: "aspect-ratio", onchange: () => edit("aspect_ratio", arSel.value) });
  const audio = h("input", { type: "checkbox", testid: "audio", onchange: () => edit("output_audio", audio.checked) });
  const seed = h("input", {
    type: "number", step: 1, min: 0, placeholder: "random", testid: "seed",
    oninput: () => {
      const n = parseInt(seed.value, 10);
      edit("seed", Number.isFinite(n) ? n : null, true);
    },
  });
  const lastFrame = h("input", { type: "checkbox", testid: "last-frame-toggle", onchange: () => edit("return_last_frame", lastFrame.checked) });

  controls.model = field("Model", modelSel);
  controls.operation = field("Operation", opSel);
  controls.prompt = field("Prompt", prompt, "sw-wide");
  controls.prompt.wrap.insertBefore(counter, controls.prompt.errs);
  controls.resolution = field("Resolution", resSel);
  controls.duration = field("Duration", durSel);
  controls.aspect_ratio = field("Aspect ratio", arSel);
  controls.seed = field("Seed", seed, "sw-seed");
  controls.output_audio = field("Audio", audio, "sw-toggle");
  controls.return_last_frame = field("Return last frame", lastFrame, "sw-toggle");

  /** @type {Record<string, HTMLImageElement>} */
  const previews = {};
  for (const [key, label, testid] of INPUTS) {
    const input = h("input", {
      type: "text", testid, spellcheck: "false",
      placeholder: key === "task_id" ? "id of a completed task" : key === "video_url" ? "https://… or asset://…" : "https://…, asset://… or drop an image here",
      oninput: () => edit(key, input.value.trim(), true),
    });
    controls[key] = field(label, input, "sw-wide");
    if (IMAGE_FIELDS.includes(key)) {
      previews[key] = h("img", { class: "sw-thumb", alt: "", hidden: true });
      controls[key].wrap.insertBefore(previews[key], controls[key].errs);
      makeDropTarget(input, (urls) => {
        edit(key, urls[0]);
        syncForm();
      }, (file) => upload(file, key));
    }
  }

  // ---- reference drop zone --------------------------------------------------------------
  const refUrl = h("input", {
    type: "text", testid: "reference-url-input", spellcheck: "false", placeholder: "Paste an image/video/audio URL or asset://…",
    onkeydown: (/** @type {KeyboardEvent} */ e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        addTyped();
      }
    },
  });
  const zoneMsg = h("div", { class: "sw-zone-msg", role: "status" });
  const refCounts = h("div", { class: "sw-muted sw-small" });
  const refList = h("ol", { class: "sw-refs" });
  const filePick = h("input", {
    type: "file", accept: "image/*", multiple: true, hidden: true,
    onchange: () => {
      for (const f of Array.from(filePick.files || [])) takeFile(f);
      filePick.value = "";
    },
  });
  const zone = h("div", { class: "sw-zone", testid: "drop-zone", tabindex: 0 },
    h("div", { class: "sw-zone-hint" }, "Drop images, or links to images / videos / audio, here — or ",
      h("button", { type: "button", class: "sw-link", onclick: () => filePick.click() }, "browse images"), filePick),
    h("div", { class: "sw-row" }, refUrl, h("button", { type: "button", class: "sw-btn", onclick: addTyped }, "Add")),
    zoneMsg, refCounts, refList);
  makeDropTarget(zone, addUrls, takeFile);
  const zoneErrs = h("div", { class: "sw-errs" });
  controls.references = { wrap: h("div", { class: "sw-field sw-wide" }, h("span", { class: "sw-label" }, "References"), zone, zoneErrs), input: zone, errs: zoneErrs };

  // ---- footer, status -------------------------------------------------------------------
  const notice = h("div", { class: "sw-notice", testid: "notice", role: "status" });
  const general = h("div", { class: "sw-err", role: "alert", testid: "error" });
  const generate = h("button", { type: "button", class: "sw-btn sw-primary sw-generate", testid: "generate", onclick: submit });
  const price = h("span", { class: "sw-price", testid: "price" });
  const budget = h("span", { class: "sw-muted sw-small", testid: "budget" });
  const card = createCard({ send: (msg) => model.send(msg), media });
  const current = h("div", { class: "sw-current" }, card.el);

  const c = controls;
  const root = h("div", { class: "sw-root sw-panel" },
    notice,
    h("div", { class: "sw-row" }, c.model.wrap, c.operation.wrap),
    c.prompt.wrap,
    INPUTS.map(([k]) => c[k].wrap),
    c.references.wrap,
    h("div", { class: "sw-row" }, c.resolution.wrap, c.duration.wrap, c.aspect_ratio.wrap, c.seed.wrap, c.output_audio.wrap, c.return_last_frame.wrap),
    general,
    h("div", { class: "sw-row sw-footer" }, generate, price, h("span", { class: "sw-grow" }), budget),
    current);
  el.append(root);
  life.add(() => {
    writer.cancel();
    clearTimeout(lock.timer);
    card.destroy();
    for (const m of [byName, byField, byUpload]) for (const u of m.values()) URL.revokeObjectURL(u);
    root.remove();
  });

  // ---- form state -----------------------------------------------------------------------
  function write() {
    writer.cancel();
    pending.clear();
    model.set("form", { ...form });
    model.save_changes();
  }

  /**
   * @param {string} key
   * @param {unknown} value
   * @param {boolean} [typing] debounce the write (text input); selects write at once
   */
  function edit(key, value, typing = false) {
    form = { ...form, [key]: value };
    if (typing) {
      pending.add(key);
      writer.schedule();
    } else write();
  }

  function catalog() {
    return model.get("catalog") || {};
  }

  /** @returns {ModelInfo} */
  function modelInfo() {
    const models = catalog().models || [];
    return models.find((/** @type {ModelInfo} */ m) => m.id === form.model) || models[0] || { id: "" };
  }

  /** @param {string} id */
  function onModel(id) {
    const models = catalog().models || [];
    const m = models.find((/** @type {ModelInfo} */ x) => x.id === id) || { id };
    /** @type {Record<string, any>} */
    const next = { ...form, model: id };
    // Keep the user's values where the new model allows them; else take its first choice.
    for (const [k, list] of /** @type {[string, any[]|undefined][]} */ ([
      ["resolution", m.resolutions], ["duration", m.durations], ["aspect_ratio", m.aspect_ratios], ["operation", m.operations],
    ])) {
      if (list && list.length && !list.includes(next[k])) next[k] = list[0];
    }
    form = next;
    write();
    syncForm();
  }

  /** @param {string} op */
  function onOperation(op) {
    edit("operation", op);
    syncForm();
  }

  /** @param {Ref[]} refs */
  function setRefs(refs) {
    edit("references", refs);
    syncRefs();
  }

  function refs() {
    return /** @type {Ref[]} */ (Array.isArray(form.references) ? form.references : []);
  }

  // ---- syncing the controls from state ---------------------------------------------------
  function visibleInputs() {
    const inputs = catalog().inputs || {};
    return new Set(inputs[form.operation] || []);
  }

  function syncForm() {
    const cat = catalog();
    const m = modelInfo();
    setOptions(modelSel, (cat.models || []).map((/** @type {ModelInfo} */ x) => [x.id, x.id]), form.model);
    setOptions(opSel, (m.operations || Object.keys(cat.inputs || {})).map((o) => [o, OP_LABELS[o] || o]), form.operation);
    setOptions(resSel, (m.resolutions || []).map((r) => [r, r]), form.resolution);
    setOptions(durSel, (m.durations || []).map((d) => [String(d), d === -1 ? "auto" : `${d}s`]), form.duration);
    setOptions(arSel, (m.aspect_ratios || []).map((a) => [a, a]), form.aspect_ratio);
    setValue(prompt, "prompt", form.prompt || "");
    setValue(seed, "seed", form.seed == null ? "" : String(form.seed));
    audio.checked = !!form.output_audio;
    lastFrame.checked = !!form.return_last_frame;
    const shown = visibleInputs();
    for (const [k] of INPUTS) {
      show(c[k].wrap, shown.has(k));
      setValue(/** @type {HTMLInputElement} */ (c[k].input), k, form[k] || "");
    }
    show(c.references.wrap, shown.has("references"));
    syncPreviews();
    updateCounter();
    syncRefs();
    syncErrors();
  }

  /**
   * Never overwrite what the user is still typing (their edit is newer than the trait).
   * @param {HTMLInputElement | HTMLTextAreaElement} input
   * @param {string} key
   * @param {string} value
   */
  function setValue(input, key, value) {
    if (pending.has(key)) return;
    if (input.value !== value) input.value = value;
  }

  function updateCounter() {
    const max = modelInfo().prompt_max_characters || 0;
    const n = Array.from(prompt.value).length; // code points, like Python's len()
    setText(counter, max ? `${n} / ${max}` : String(n));
    counter.classList.toggle("sw-over", !!max && n > max);
  }

  function syncPreviews() {
    for (const k of IMAGE_FIELDS) {
      const v = String(form[k] || "");
      const local = byField.get(k);
      if (local && v.startsWith("upload://")) {
        byUpload.set(v, local);
        byField.delete(k);
      }
      const src = byUpload.get(v) || safeSrc(v);
      show(previews[k], !!src);
      if (src && previews[k].getAttribute("src") !== src) previews[k].setAttribute("src", src);
    }
  }

  function syncRefs() {
    const list = refs();
    const limits = modelInfo().references || {};
    const count = (/** @type {string} */ k) => list.filter((r) => r.kind === k).length;
    const part = (/** @type {string} */ label, /** @type {number} */ n, /** @type {number|undefined} */ max) =>
      h("span", { class: max != null && n > max ? "sw-over" : "" }, max != null ? `${label} ${n}/${max}` : `${label} ${n}`);
    fill(refCounts, part("Images", count("image"), limits.images), " · ", part("Videos", count("video"), limits.videos), " · ",
      part("Audios", count("audio"), limits.audios), " · ", part("Files", list.length, limits.files));
    const key = JSON.stringify(list);
    if (key === refsKey) return; // unchanged: keep thumbnails (and their loaded media) as they are
    refsKey = key;
    fill(refList, list.map(refItem));
  }

  /** @param {Ref} r */
  function thumb(r) {
    const url = String(r.url || "");
    if (url.startsWith("upload://") && !byUpload.has(url) && byName.has(r.name)) {
      byUpload.set(url, /** @type {string} */ (byName.get(r.name)));
      byName.delete(r.name);
    }
    const src = byUpload.get(url) || safeSrc(url);
    if (!src) return h("div", { class: "sw-thumb sw-placeholder", title: url }, r.kind);
    if (r.kind === "video") return h("video", { class: "sw-thumb", src, muted: true, preload: "metadata", playsinline: true });
    if (r.kind === "audio") return h("audio", { class: "sw-audio", src, controls: true, preload: "none" });
    return h("img", { class: "sw-thumb", src, alt: r.name || "" });
  }

  /**
   * @param {Ref} r
   * @param {number} i
   * @param {Ref[]} list
   */
  function refItem(r, i, list) {
    const nth = list.slice(0, i + 1).filter((x) => x.kind === r.kind).length;
    const tag = `@${r.kind}${nth}`;
    const kind = h("select", {
      "aria-label": "Kind", class: "sw-kind",
      onchange: () => setRefs(list.map((x, j) => (j === i ? { ...x, kind: kind.value } : x))),
    }, KINDS.map((k) => h("option", { value: k, selected: k === r.kind }, k)));
    return h("li", { class: "sw-ref", testid: "reference-item" },
      thumb(r),
      h("div", { class: "sw-ref-body" },
        h("div", { class: "sw-ref-name", title: r.url }, r.name || r.url),
        h("div", { class: "sw-row" }, kind,
          h("button", { type: "button", class: "sw-btn sw-small", testid: "reference-insert-tag", title: "Insert this tag into the prompt", onclick: () => insertTag(tag) }, tag))),
      h("button", { type: "button", class: "sw-icon", testid: "reference-up", "aria-label": "Move up", title: "Move up", disabled: i === 0,
        onclick: () => setRefs(list.map((x, j) => (j === i - 1 ? list[i] : j === i ? list[i - 1] : x))) }, "↑"),
      h("button", { type: "button", class: "sw-icon", testid: "reference-remove", "aria-label": "Remove", title: "Remove",
        onclick: () => setRefs(list.filter((_, j) => j !== i)) }, "✕"));
  }

  /** @param {string} tag */
  function insertTag(tag) {
    const v = prompt.value;
    const start = prompt.selectionStart ?? v.length;
    const end = prompt.selectionEnd ?? start;
    const before = v.slice(0, start);
    const text = (before && !/\s$/.test(before) ? " " : "") + tag + (/^\s/.test(v.slice(end)) ? "" : " ");
    prompt.value = before + text + v.slice(end);
    const caret = start + text.length;
    prompt.focus();
    prompt.setSelectionRange(caret, caret);
    edit("prompt", prompt.value);
    updateCounter();
  }

  // ---- dropping and uploading -----------------------------------------------------------
  /**
   * @param {HTMLElement} target
   * @param {(urls: string[]) => void} onUrls
   * @param {(file: File) => void} onFile
   */
  function makeDropTarget(target, onUrls, onFile) {
    const off = () => target.classList.remove("sw-drag");
    target.addEventListener("dragover", (e) => acceptDrag(e) && target.classList.add("sw-drag"));
    target.addEventListener("dragleave", off);
    target.addEventListener("drop", (e) => {
      off();
      if (!e.dataTransfer || !acceptDrag(e)) return;
      e.stopPropagation();
      setText(zoneMsg, "");
      const files = Array.from(e.dataTransfer.files || []);
      if (files.length) files.forEach(onFile);
      else {
        const urls = droppedUrls(e.dataTransfer);
        if (urls.length) onUrls(urls);
      }
    });
  }

  /** @param {string[]} urls */
  function addUrls(urls) {
    const add = urls.map((url) => ({ kind: guessKind(url), url, name: nameOf(url) }));
    setRefs([...refs(), ...add]);
  }

  function addTyped() {
    const v = refUrl.value.trim();
    if (!v) return;
    refUrl.value = "";
    addUrls([v]);
  }

  /** @param {File} file */
  function takeFile(file) {
    if (/^(video|audio)\//.test(file.type)) setText(zoneMsg, NO_FILES);
    else if (!file.type.startsWith("image/")) setText(zoneMsg, `${file.name}: not an image`);
    else upload(file, "references");
  }

  /**
   * @param {File} file
   * @param {string} target form field the upload is for
   */
  async function upload(file, target) {
    if (!file.type.startsWith("image/")) {
      showFieldNote(target, /^(video|audio)\//.test(file.type) ? NO_FILES : `${file.name}: not an image`);
      return;
    }
    const max = catalog().max_image_bytes;
    if (max && file.size > max) {
      showFieldNote(target, `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; images are limited to ${Math.floor(max / 1048576)} MB`);
      return;
    }
    const local = URL.createObjectURL(file);
    const map = target === "references" ? byName : byField;
    const key = target === "references" ? file.name : target;
    const old = map.get(key);
    if (old) URL.revokeObjectURL(old);
    map.set(key, local);
    flush(); // Python adds the upload to the form it has: it must have our latest edits
    const buf = await file.arrayBuffer();
    // `field` tells Python where the upload:// URL goes; without it, it goes to references.
    model.send({ type: "upload", kind: "image", name: file.name, mime: file.type, field: target }, undefined, [buf]);
  }

  /**
   * @param {string} target
   * @param {string} text
   */
  function showFieldNote(target, text) {
    if (target === "references") setText(zoneMsg, text);
    else fill(c[target].errs, h("div", { class: "sw-field-error" }, text));
  }

  // ---- errors, price, status -------------------------------------------------------------
  function syncErrors() {
    const errors = model.get("errors") || {};
    for (const k of Object.keys(c)) {
      c[k].errs.replaceChildren();
      c[k].input.removeAttribute("aria-invalid");
    }
    /** @type {string[]} */
    const rest = [];
    for (const [k, msg] of Object.entries(errors)) {
      const ctl = c[k] || c[k.split(/[.[]/)[0]];
      if (ctl && !ctl.wrap.hidden) {
        ctl.errs.append(h("div", { class: "sw-field-error", testid: `field-error-${k}` }, String(msg)));
        ctl.input.setAttribute("aria-invalid", "true");
      } else rest.push(`${k}: ${msg}`);
    }
    setText(general, rest.join("\n"));
    show(general, rest.length > 0);
  }

  function syncStatus() {
    const p = model.get("price") || {};
    const busy = !!model.get("busy");
    setText(price, p.label || "");
    price.title = (p.assumptions || []).join("\n");
    price.classList.toggle("sw-muted", !p.known);
    generate.disabled = busy || lock.on || !model.get("can_submit");
    // The full label (tokens, "estimate") sits beside the button; the button keeps it short.
    const short = typeof p.usd === "number" ? `Generate · ≈ ${fmtUsd(p.usd)}` : "Generate";
    setText(generate, busy || lock.on ? "Submitting…" : short);
    const b = model.get("budget") || {};
    const hasCap = typeof b.cap_usd === "number";
    setText(budget, hasCap ? `Budget: ${fmtUsd(b.spent_usd || 0)} of ${fmtUsd(b.cap_usd)} used` : "");
    budget.classList.toggle("sw-over", hasCap && (b.spent_usd || 0) >= b.cap_usd);
    show(budget, hasCap);
    const text = model.get("notice") || "";
    setText(notice, text);
    notice.className = `sw-notice sw-notice-${model.get("notice_kind") === "error" ? "error" : "info"}`;
    show(notice, !!text);
  }

  function syncCurrent() {
    const t = model.get("current");
    show(current, !!t);
    if (t) card.update(t);
  }

  // ---- submitting ---------------------------------------------------------------------------
  function flush() {
    if (pending.size) write();
  }

  function submit() {
    if (lock.on || model.get("busy")) return;
    // can_submit may be stale while a debounced edit is unsent; Python re-validates anyway.
    if (!model.get("can_submit") && !pending.size) return;
    lock.on = true;
    lock.sawBusy = false;
    generate.disabled = true; // synchronously, so a double click cannot send twice
    flush();
    model.send({ type: "submit" });
    lock.timer = setTimeout(release, 3000);
    syncStatus();
  }

  function release() {
    if (!lock.on) return;
    lock.on = false;
    clearTimeout(lock.timer);
    syncStatus();
  }

  /** @param {KeyboardEvent} e */
  function onPromptKey(e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation(); // JupyterLab would otherwise run the cell
      submit();
    }
  }

  // ---- wiring ---------------------------------------------------------------------------------
  life.on(model, "change:form", () => {
    const incoming = model.get("form") || {};
    const mine = Object.fromEntries([...pending].map((k) => [k, form[k]]));
    form = { ...incoming, ...mine };
    syncForm();
  });
  life.on(model, "change:catalog", syncForm);
  life.on(model, "change:errors", syncErrors);
  for (const k of ["price", "budget", "can_submit", "notice", "notice_kind"]) life.on(model, `change:${k}`, syncStatus);
  life.on(model, "change:busy", () => {
    if (model.get("busy")) lock.sawBusy = true;
    else if (lock.sawBusy) release();
    syncStatus();
  });
  life.on(model, "change:notice", release);
  life.on(model, "change:current", () => {
    release();
    syncCurrent();
  });
  life.on(model, "msg:custom", (/** @type {any} */ msg) => {
    if (!msg || msg.type !== "focus") return;
    const ctl = c[msg.field];
    if (!ctl) return;
    ctl.wrap.scrollIntoView({ block: "nearest" });
    const target = msg.field === "references" ? refUrl : ctl.input;
    target.focus();
  });
  life.every(1000, () => {
    if (card.task && !isTerminal(card.task)) card.tick(Date.now());
  });

  syncForm();
  syncStatus();
  syncCurrent();
  return () => life.dispose();
}
