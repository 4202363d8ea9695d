// @ts-check
/**
 * The assets drawer: the account's ACTIVE material assets (the emulator's in demo mode), with
 * thumbnails and names, a page at a time. Opening it (or Refresh) asks the kernel to list them
 * again; a click inserts `asset://…` where "Insert into" says: the image field the operation
 * uses, or References. An operation without image inputs offers the two that imply one (the
 * kernel switches the operation and says so). Loading, empty and error states come from the
 * kernel's `assets` state.
 */
import { h, fill, setText, show, setOptions } from "../dom.js";

/** Operation -> where an image asset can go ([field, label]). */
const TARGETS = /** @type {Record<string, [string, string][]>} */ ({
  "image-to-video": [["image_url", "Image (first frame)"]],
  "start-end-to-video": [["start_image", "Start image"], ["end_image", "End image"]],
  "reference-to-video": [["references", "References"]],
});
const OTHERS = /** @type {[string, string][]} */ ([
  ["image_url", "Image → video (first frame)"], ["references", "References → video"]]);

/**
 * @param {{model: any, fs: import("./state.js").FormState}} ctx
 */
export function createDrawer({ model, fs }) {
  let chosen = "";
  const toggle = h("button", {
    type: "button", class: "sw-btn sw-small-btn sw-assets-toggle", testid: "assets-toggle", "aria-expanded": "false",
    title: "Material assets: images registered once, used as asset:// in any run", onclick: () => setOpen(el.hidden),
  }, "Assets");
  const target = h("select", {
    testid: "asset-target", "aria-label": "Insert into", class: "sw-asset-target",
    onchange: () => {
      chosen = target.value;
    },
  });
  const state = h("div", { class: "sw-assets-state", testid: "assets-state", role: "status" });
  const grid = h("div", { class: "sw-assets-grid", role: "list" });
  const more = h("button", { type: "button", class: "sw-btn sw-small-btn", testid: "assets-more", hidden: true,
    onclick: () => model.send({ type: "assets_more" }) }, "Show more");
  const el = h("section", { class: "sw-drawer", testid: "assets-drawer", "aria-label": "Material assets", hidden: true },
    h("div", { class: "sw-drawer-head" },
      h("strong", null, "Material assets"), h("span", { class: "sw-muted sw-small" }, "ACTIVE only"),
      h("label", { class: "sw-inline sw-drawer-target" }, "Insert into", target),
      h("button", { type: "button", class: "sw-btn sw-small-btn", testid: "assets-refresh", onclick: refresh }, "Refresh"),
      h("button", { type: "button", class: "sw-icon", "aria-label": "Close", title: "Close", onclick: () => setOpen(false) }, "✕")),
    state, grid, h("div", { class: "sw-more-row" }, more));

  /** @param {boolean} open */
  function setOpen(open) {
    show(el, open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.classList.toggle("sw-on", open);
    if (open) refresh(); // the list may have changed since it was last open
  }

  function refresh() {
    model.send({ type: "assets_refresh" });
  }

  /** The targets of the current operation, the user's choice kept while it fits. */
  function syncTargets() {
    const opts = TARGETS[fs.form.operation] || OTHERS;
    if (!opts.some(([v]) => v === chosen)) {
      const empty = opts.find(([v]) => v !== "references" && !fs.form[v]);
      chosen = (empty || opts[0])[0];
    }
    setOptions(target, opts, chosen);
  }

  /** @param {import("../protocol.js").AssetItem} a */
  function item(a) {
    const thumb = a.thumb
      ? h("img", { class: "sw-asset-thumb", src: a.thumb, alt: "", loading: "lazy" })
      : h("div", { class: "sw-asset-thumb sw-placeholder" }, a.asset_type || "asset");
    return h("button", {
      type: "button", class: "sw-asset", testid: "asset-item", role: "listitem", title: `Insert ${a.uri}`, "data-asset-id": a.asset_id,
      onclick: () => {
        fs.flush(); // the kernel inserts into the form it has: give it the latest edits
        model.send({ type: "asset_insert", asset_id: a.asset_id, name: a.name, field: target.value || chosen });
      },
    }, thumb, h("span", { class: "sw-asset-name" }, a.name), h("span", { class: "sw-asset-id" }, a.asset_id));
  }

  let key = "";
  function sync() {
    syncTargets();
    const s = /** @type {import("../protocol.js").AssetsState} */ (model.get("assets") || { status: "idle", items: [], has_more: false, error: "", empty_hint: "" });
    const items = s.items || [];
    let text = "";
    if (s.status === "loading") text = items.length ? "Loading more…" : "Loading the material assets…";
    else if (s.status === "error") text = s.error;
    else if (s.status === "ready" && !items.length) text = s.empty_hint;
    setText(state, text);
    state.className = `sw-assets-state${s.status === "error" ? " sw-err" : " sw-muted"}`;
    show(state, !!text);
    show(more, s.has_more && s.status === "ready");
    const next = JSON.stringify(items);
    if (next !== key) {
      key = next;
      fill(grid, items.map(item));
    }
  }

  return { el, toggle, sync };
}
