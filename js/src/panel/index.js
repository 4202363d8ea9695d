// @ts-check
/**
 * The generation panel: form | current result, side by side when there is room. Python owns
 * validation, pricing, budgets and submission; this view edits the `form` trait, renders what
 * the kernel says, and sends `submit` / `upload`. Sections: fields, inputs, references, footer.
 */
import { h, setText, show, safeSrc } from "../dom.js";
import { createCard } from "../card.js";
import { createMedia, createCodeCache } from "../media.js";
import { onMessages, childModel } from "../protocol.js";
import { createFormState } from "./state.js";
import { createFields } from "./fields.js";
import { createInputs, INPUT_KEYS } from "./inputs.js";
import { createReferences } from "./references.js";
import { createFooter } from "./footer.js";
import { createWatchdog } from "./kernel.js";
import { createMaterials } from "./materials.js";
import { createDrawer } from "./drawer.js";

/**
 * @param {{model: any, el: HTMLElement, host: any, life: import("../dom.js").Life}} ctx
 */
export function renderPanel({ model, el, host, life }) {
  const fs = createFormState(model, life);
  const media = createMedia(model, life);
  const code = createCodeCache(model);
  const lock = { on: false, sawBusy: false, timer: /** @type {any} */ (0) };
  /** @type {Map<string, string>} object URLs of dropped files: by file name (references) */
  const byName = new Map();
  /** @type {Map<string, string>} ... by the field an image was dropped on */
  const byField = new Map();
  /** @type {Map<string, string>} ... by the upload:// key the kernel gave it */
  const byUpload = new Map();

  const catalog = () => model.get("catalog") || {};
  const modelInfo = () => {
    const models = catalog().models || [];
    return models.find((/** @type {any} */ m) => m.id === fs.form.model) || models[0] || { id: "" };
  };
  /**
   * @param {string} url
   * @param {string} [name]
   */
  const previewOf = (url, name) => {
    if (url.startsWith("asset://")) {
      // An asset's picture: from the drawer, or the URL this panel registered it from.
      const items = /** @type {import("../protocol.js").AssetItem[]} */ ((model.get("assets") || {}).items || []);
      const regs = /** @type {import("../protocol.js").RegisterState[]} */ (Object.values(model.get("registrations") || {}));
      const reg = regs.find((r) => !!r.asset_id && `asset://${r.asset_id}` === url);
      return (items.find((a) => a.uri === url) || { thumb: "" }).thumb || safeSrc(reg ? reg.url : "");
    }
    if (!url.startsWith("upload://") && !url.startsWith("local://")) return "";
    if (!byUpload.has(url) && name && byName.has(name)) {
      byUpload.set(url, /** @type {string} */ (byName.get(name)));
      byName.delete(name);
    }
    return byUpload.get(url) || "";
  };

  const fields = createFields({ fs, onSubmitKey: submit, modelInfo });
  const extras = createMaterials({ model, fs });
  const drawer = createDrawer({ model, fs });
  const inputs = createInputs({ fs, upload, dropMedia, previewOf, extras });
  const refs = createReferences({ fs, upload, dropMedia, previewOf, insertTag, extras, limits: () => modelInfo().references || {} });
  const footer = createFooter({ onGenerate: submit, restoreHint: () => model.get("restore_hint") || "" });
  const watchdog = createWatchdog(model, { onLost: release, onBack: syncStatus, onBusy: footer.showBusy });
  const general = h("div", { class: "sw-err", role: "alert", testid: "error" });
  const badge = h("span", { class: "sw-badge", testid: "demo-badge", hidden: true }, "Demo");
  const historyOff = h("div", { class: "sw-notice sw-notice-warn", role: "status", testid: "history-off", hidden: true });
  const card = createCard({ send: (msg) => model.send(msg), media, code, rootTestid: "panel-card" });
  const placeholder = h("div", { class: "sw-result-empty" }, h("div", null, "Your video appears here"),
    h("div", { class: "sw-muted sw-small" }, "Generate runs the form on the left; every run also lands in the gallery."));
  const result = h("aside", { class: "sw-result", "aria-label": "Current result" }, placeholder, card.el);

  /** @type {Record<string, import("./ui.js").Control>} */
  const c = { ...fields.controls, ...inputs.controls, references: refs.control };
  const root = h("div", { class: "sw-root sw-panel" },
    h("header", { class: "sw-panel-head" }, h("strong", { class: "sw-brand" }, "Seedance 2.0"), badge,
      h("span", { class: "sw-grow" }), drawer.toggle),
    historyOff,
    drawer.el,
    h("div", { class: "sw-panel-body" },
      h("section", { class: "sw-form", "aria-label": "Request" },
        h("div", { class: "sw-row" }, c.model.wrap, c.operation.wrap),
        c.prompt.wrap,
        INPUT_KEYS.map((k) => c[k].wrap),
        c.references.wrap,
        h("div", { class: "sw-row sw-settings" }, c.resolution.wrap, c.duration.wrap, c.aspect_ratio.wrap),
        h("div", { class: "sw-row sw-seedrow" }, c.seed.wrap, c.output_audio.wrap, c.return_last_frame.wrap),
        general, footer.el),
      result));
  el.append(root);
  life.add(() => {
    clearTimeout(lock.timer);
    watchdog.dispose();
    card.destroy();
    for (const m of [byName, byField, byUpload]) for (const u of m.values()) URL.revokeObjectURL(u);
    root.remove();
  });
  // Touching a field (leaving it) lets its error show.
  for (const [k, ctl] of Object.entries(c)) {
    ctl.wrap.addEventListener("focusout", () => {
      if (!fs.touched.has(k)) {
        fs.touched.add(k);
        syncErrors();
      }
    });
  }

  // ---- form -> controls -----------------------------------------------------------------
  function syncForm() {
    fields.sync(catalog());
    const shown = new Set((catalog().inputs || {})[fs.form.operation] || []);
    for (const [key, local] of byField) {
      const v = String(fs.form[key] || "");
      if (v.startsWith("upload://")) {
        byUpload.set(v, local);
        byField.delete(key);
      }
    }
    inputs.sync(shown, model.get("sources") || []);
    show(c.references.wrap, shown.has("references"));
    refs.sync();
    extras.sync();
    drawer.sync();
    syncErrors();
  }

  function syncErrors() {
    const errors = model.get("errors") || {};
    for (const ctl of Object.values(c)) {
      ctl.errs.replaceChildren();
      ctl.input.removeAttribute("aria-invalid");
    }
    /** @type {string[]} */
    const rest = [];
    for (const [k, msg] of Object.entries(errors)) {
      if (!fs.showsError(k)) continue;
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
    footer.sync({
      price: model.get("price"), generate: model.get("generate"), budget: model.get("budget"),
      notice: model.get("notice"), busy: !!model.get("busy"), locked: lock.on, lost: watchdog.lost,
    });
    const demo = model.get("demo") || "";
    show(badge, !!demo);
    badge.title = demo;
    const off = model.get("history_off") || "";
    setText(historyOff, off);
    show(historyOff, !!off);
  }

  let currentSeq = 0;
  async function syncCurrent() {
    const ref = model.get("current");
    const n = ++currentSeq;
    show(placeholder, !ref);
    show(card.el, !!ref);
    if (!ref) return;
    const child = await childModel(host, model, ref);
    if (n === currentSeq) card.bind(child);
  }

  // ---- actions ----------------------------------------------------------------------------
  /** @param {string} tag */
  function insertTag(tag) {
    const p = /** @type {HTMLTextAreaElement} */ (fields.prompt);
    const v = p.value;
    const start = p.selectionStart ?? v.length;
    const end = p.selectionEnd ?? start;
    const before = v.slice(0, start);
    const text = (before && !/\s$/.test(before) ? " " : "") + tag + (/^\s/.test(v.slice(end)) ? "" : " ");
    p.value = before + text + v.slice(end);
    const caret = start + text.length;
    p.focus();
    p.setSelectionRange(caret, caret);
    fs.edit("prompt", p.value);
  }

  /**
   * @param {File} file
   * @param {string} target form field the upload is for
   */
  async function upload(file, target) {
    const note = (/** @type {string} */ t) => (target === "references" ? refs.note(t) : inputs.note(target, t));
    if (!file.type.startsWith("image/")) return note(`${file.name}: only images can be dropped here`);
    const max = catalog().max_image_bytes;
    if (max && file.size > max) return note(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; images are limited to ${Math.floor(max / 1048576)} MB`);
    const local = URL.createObjectURL(file);
    const map = target === "references" ? byName : byField;
    const key = target === "references" ? file.name : target;
    const old = map.get(key);
    if (old) URL.revokeObjectURL(old);
    map.set(key, local);
    fs.flush(); // the kernel adds the upload to the form it has: it must have our latest edits
    const buf = await file.arrayBuffer();
    model.send({ type: "upload", name: file.name, mime: file.type, field: target }, undefined, [buf]);
  }

  /**
   * A dropped video or audio file: to the kernel, which keeps it until Upload publishes it on
   * the media host; without a host, say exactly what to configure.
   * @param {File} file
   * @param {string} target references or video_url
   */
  async function dropMedia(file, target) {
    const note = (/** @type {string} */ t) => (target === "references" ? refs.note(t) : inputs.note(target, t));
    const m = /** @type {import("../protocol.js").MediaState} */ (model.get("media") || {});
    if (!m.configured) return note(m.help || "No media host is configured for video and audio files.");
    note("");
    const old = byName.get(file.name);
    if (old) URL.revokeObjectURL(old);
    byName.set(file.name, URL.createObjectURL(file)); // a local preview until it is uploaded
    fs.flush();
    const buf = await file.arrayBuffer();
    model.send({ type: "media_file", name: file.name, mime: file.type, field: target }, undefined, [buf]);
  }

  function submit() {
    fs.state.attempted = true; // pressing Generate shows every field's error
    syncErrors();
    if (lock.on || model.get("busy") || watchdog.lost) return;
    const g = model.get("generate") || {};
    if (!g.enabled && !fs.pending.size) return; // the reason is on show; Python re-checks anyway
    lock.on = true;
    lock.sawBusy = false;
    fs.flush();
    model.send({ type: "submit", n: watchdog.next() });
    lock.timer = setTimeout(release, 10000);
    syncStatus(); // synchronously: a double click cannot send twice
  }

  function release() {
    lock.on = false;
    clearTimeout(lock.timer);
    syncStatus();
  }

  // ---- wiring -----------------------------------------------------------------------------
  life.on(model, "change:form", () => {
    fs.incoming();
    syncForm();
  });
  life.on(model, "change:catalog", syncForm);
  life.on(model, "change:sources", syncForm);
  life.on(model, "change:errors", syncErrors);
  for (const k of ["registrations", "uploads"]) life.on(model, `change:${k}`, () => extras.sync());
  life.on(model, "change:assets", () => {
    drawer.sync();
    refs.sync();
  });
  for (const k of ["price", "budget", "generate", "demo", "history_off"]) life.on(model, `change:${k}`, syncStatus);
  life.on(model, "change:busy", () => {
    if (model.get("busy")) lock.sawBusy = true;
    else if (lock.sawBusy) release();
    syncStatus();
  });
  life.on(model, "change:notice", () => {
    release();
    syncStatus();
  });
  life.on(model, "change:current", () => {
    release();
    void syncCurrent();
  });
  onMessages(model, life, {
    pong: (msg) => watchdog.pong(msg),
    video: media.receive,
    frame: media.receive,
    code: code.receive,
    focus: (msg) => {
      const ctl = c[msg.field];
      if (!ctl) return;
      ctl.wrap.scrollIntoView({ block: "nearest" });
      (msg.field === "references" ? refs.urlInput : ctl.input).focus();
    },
  });
  life.every(1000, () => card.tick(Date.now())); // elapsed ticks here, kernel busy or not
  const first = setTimeout(() => watchdog.ping(), 300); // a view of a kernel that is gone says so
  life.add(() => clearTimeout(first));

  syncForm();
  syncStatus();
  void syncCurrent();
  return () => life.dispose();
}
