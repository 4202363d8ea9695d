// @ts-check
/**
 * What the kernel says about one input, shown under it: "Register as asset" and its live
 * status (registering → PROCESSING → ACTIVE or FAILED with the server's reason) for image
 * URLs, and for a dropped video or audio file (`local://<key>`) its Upload action and progress.
 * Each input (a reference by its key, an image field or video_url by name) gets one slot
 * element that lives as long as the view, so a status tick never rebuilds the reference list.
 * The kernel decides every status and message; this only renders them and sends the clicks.
 */
import { h, fill, show } from "../dom.js";
import { nameOf } from "./drop.js";

const IMAGE_FIELDS = ["image_url", "start_image", "end_image"];
const WORDS = /** @type {Record<string, string>} */ ({
  registering: "registering…", PROCESSING: "PROCESSING", ACTIVE: "ACTIVE", FAILED: "FAILED",
  error: "not registered", timeout: "still PROCESSING",
});

/**
 * @param {{model: any, fs: import("./state.js").FormState}} ctx
 */
export function createMaterials({ model, fs }) {
  /** @type {Map<string, HTMLElement>} */
  const slots = new Map();

  /**
   * @param {string} key a reference key or a field name
   * @returns {HTMLElement}
   */
  function slot(key) {
    /** @type {HTMLElement} */
    const el = slots.get(key) || h("div", { class: "sw-extra", "data-key": key });
    slots.set(key, el);
    render(key, el);
    return el;
  }

  /**
   * The input behind a slot: its URL and kind.
   * @param {string} key
   * @returns {{url: string, kind: string} | null}
   */
  function input(key) {
    if (IMAGE_FIELDS.includes(key)) return { url: String(fs.form[key] || ""), kind: "image" };
    if (key === "video_url") return { url: String(fs.form.video_url || ""), kind: "video" };
    const refs = /** @type {import("../protocol.js").Ref[]} */ (fs.form.references || []);
    const r = refs.find((x) => x.key === key);
    return r ? { url: String(r.url || ""), kind: r.kind } : null;
  }

  /**
   * @param {string} key
   * @param {HTMLElement} el
   */
  function render(key, el) {
    const it = input(key);
    const sig = JSON.stringify([it, (model.get("registrations") || {})[key], uploadOf(it)]);
    if (el.dataset.sig === sig) return; // unchanged: keep focus and hover as they are
    el.dataset.sig = sig;
    fill(el, it ? parts(key, it) : null);
    show(el, el.childNodes.length > 0);
  }

  /** @param {{url: string, kind: string} | null} it */
  function uploadOf(it) {
    if (!it || !it.url.startsWith("local://")) return null;
    return (model.get("uploads") || {})[it.url.slice("local://".length)] || null;
  }

  /**
   * @param {string} key
   * @param {{url: string, kind: string}} it
   */
  function parts(key, it) {
    const up = /** @type {import("../protocol.js").UploadState | null} */ (uploadOf(it));
    if (up) return uploadParts(it.url.slice("local://".length), up);
    if (it.kind !== "image") return null; // asset:// ids stand only in image inputs
    const reg = /** @type {import("../protocol.js").RegisterState | undefined} */ ((model.get("registrations") || {})[key]);
    const mine = reg && (reg.url === it.url || (reg.status === "ACTIVE" && it.url === `asset://${reg.asset_id}`));
    const http = /^https?:\/\//i.test(it.url);
    const button = http && (!mine || (reg && reg.terminal && reg.status !== "ACTIVE"))
      ? h("button", {
        type: "button", class: "sw-btn sw-small-btn", testid: "register-asset",
        title: "Register this URL as a TokenLab material asset: it is imported once, then asset:// stands for it in any run",
        onclick: () => {
          fs.flush();
          model.send({ type: "register", key, url: it.url, name: refName(key, it.url) });
        },
      }, mine ? "Register again" : "Register as asset")
      : null;
    if (!mine || !reg) return button;
    const kind = reg.status === "ACTIVE" ? "ok" : reg.terminal ? "bad" : "run";
    return [h("span", { class: `sw-pill sw-pill-${kind}`, testid: "asset-status", title: reg.asset_id || "" }, WORDS[reg.status] || reg.status),
      h("span", { class: `sw-extra-msg${kind === "bad" ? " sw-err" : ""}`, testid: "asset-status-message", title: reg.message }, reg.message), button];
  }

  /**
   * @param {string} key
   * @param {import("../protocol.js").UploadState} up
   */
  function uploadParts(key, up) {
    const busy = up.status === "uploading";
    const pct = up.total ? Math.round((100 * up.sent) / up.total) : 0;
    const button = up.status === "pending" || up.status === "failed"
      ? h("button", {
        type: "button", class: "sw-btn sw-small-btn sw-primary", testid: "upload",
        title: "Publish this file on the media host, then reference its public URL",
        onclick: () => model.send({ type: "media_upload", key }),
      }, up.status === "failed" ? "Retry upload" : "Upload")
      : null;
    const bar = busy || up.status === "done"
      ? h("div", { class: "sw-progress sw-upload-bar", role: "progressbar", testid: "upload-progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, title: `${pct}%` },
        h("div", { class: "sw-bar", style: `width: ${pct}%` }))
      : null;
    const text = busy ? `uploading · ${pct}% of ${sizeLabel(up.total)}` : up.message;
    return [button, bar, h("span", { class: `sw-extra-msg${up.status === "failed" ? " sw-err" : ""}`, testid: "upload-status", title: up.message }, text)];
  }

  /**
   * @param {string} key
   * @param {string} url
   */
  function refName(key, url) {
    const refs = /** @type {import("../protocol.js").Ref[]} */ (fs.form.references || []);
    const r = refs.find((x) => x.key === key);
    return (r && r.name) || nameOf(url);
  }

  /** Re-render every slot from the kernel's state (cheap: unchanged slots are skipped). */
  function sync() {
    for (const [key, el] of slots) render(key, el);
  }

  return { slot, sync };
}

/** @param {number} n bytes */
function sizeLabel(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

/** @typedef {ReturnType<typeof createMaterials>} Materials */
