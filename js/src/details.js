// @ts-check
/**
 * A card's folded details (`card-details`): what changed from the run it came from, the
 * parameters, the ids, the saved path, a note, the last frame and the code in three tabs
 * (Python that runs as it is, curl, the JSON body). The code is asked of the kernel when the
 * details open, so it never sits in the saved notebook.
 */
import { h, setText, show, setSrc, safeSrc, debounce, paramsText } from "./dom.js";

const TABS = /** @type {["python"|"curl"|"json", string][]} */ ([["python", "Python"], ["curl", "curl"], ["json", "JSON body"]]);
const ACTION_WORDS = /** @type {Record<string, string>} */ ({ extend: "Extends", use_last_frame: "Starts from the last frame of", rerun: "Re-run of" });

/**
 * @param {{send: import("./protocol.js").Send, code: import("./media.js").CodeCache,
 *   media: import("./media.js").Media}} opts
 */
export function createDetails({ send, code, media }) {
  /** @type {import("./protocol.js").CardInfo | null} */
  let info = null;
  /** @type {"python"|"curl"|"json"} */
  let tab = "python";
  let frameAsked = "";
  const origin = h("div", { class: "sw-small" });
  const diff = h("ul", { class: "sw-diff", testid: "card-diff" });
  const params = h("div", { class: "sw-small", testid: "card-params" });
  const ids = h("code", { class: "sw-id", testid: "card-id" });
  const billing = h("code", { class: "sw-id", testid: "billing-id" });
  const billingRow = h("div", { class: "sw-kv" }, h("span", { class: "sw-muted" }, "Billing"), billing);
  const saved = h("code", { class: "sw-path", testid: "saved-path" });
  const savedRow = h("div", { class: "sw-small" }, "Saved to ", saved);
  const frame = h("img", { class: "sw-frame", alt: "Last frame", testid: "last-frame", onerror: () => askFrame() });
  const frameBox = h("figure", { class: "sw-frame-box" }, frame, h("figcaption", { class: "sw-muted sw-small" }, "Last frame"));
  const noteSave = debounce(() => info && send({ type: "note", id: info.id, note: note.value }), 600);
  const note = h("textarea", { class: "sw-note", rows: 2, testid: "note", placeholder: "A note for this run (kept in the history)", oninput: () => noteSave.schedule(), onblur: () => noteSave.flush() });
  const noteHint = h("div", { class: "sw-muted sw-small" });
  const pre = h("pre", { class: "sw-code", testid: "code" });
  const tabs = TABS.map(([key, label]) => h("button", {
    type: "button", role: "tab", class: "sw-tab", testid: `code-tab-${key}`,
    onclick: () => { tab = key; loadCode(); },
  }, label));
  const codeBox = h("div", { class: "sw-codebox" }, h("div", { class: "sw-tabs", role: "tablist" }, tabs), pre);
  const el = h("details", { class: "sw-details", testid: "card-details", ontoggle: () => el.open && loadCode() },
    h("summary", null, "Details"),
    origin, diff,
    h("div", { class: "sw-kv" }, h("span", { class: "sw-muted" }, "Parameters"), params),
    h("div", { class: "sw-kv" }, h("span", { class: "sw-muted" }, "Task id"), ids),
    billingRow,
    savedRow, frameBox, note, noteHint, codeBox);

  function askFrame() {
    if (!info || frameAsked === info.id) return;
    const id = (frameAsked = info.id);
    media.request("frame", id, (url) => info && info.id === id && setSrc(frame, url));
  }

  function loadCode() {
    tabs.forEach((b, k) => b.setAttribute("aria-selected", String(TABS[k][0] === tab)));
    if (!info) return;
    const id = info.id;
    const have = code.peek(id);
    if (!have) setText(pre, "Asking the kernel for the code… (run the cell again if it does not come)");
    code.get(id, (c) => info && info.id === id && setText(pre, c[tab] || ""));
  }

  /**
   * @param {import("./protocol.js").CardInfo} i
   * @param {import("./protocol.js").CardLive} l
   */
  function update(i, l) {
    const changed = !info || info.id !== i.id;
    info = i;
    setText(origin, i.parent_id ? `${ACTION_WORDS[i.parent_action || ""] || "Derived from"} ${i.parent_id}; changed:` : "");
    show(origin, !!i.parent_id);
    const lines = i.diff || [];
    if (diff.childElementCount !== lines.length || lines.some((t, k) => diff.children[k].textContent !== t)) {
      diff.replaceChildren(...lines.map((t) => h("li", null, t)));
    }
    show(diff, lines.length > 0);
    setText(params, paramsText(i.params) || "—");
    setText(ids, i.id);
    setText(billing, l.billing_id || "");
    show(billingRow, !!l.billing_id);
    setText(saved, l.saved_path || "");
    show(savedRow, !!l.saved_path);
    show(frameBox, !!l.last_frame_url);
    if (l.last_frame_url && (changed || !frame.getAttribute("src"))) {
      const direct = safeSrc(l.last_frame_url);
      if (direct) setSrc(frame, direct);
      else askFrame();
    }
    if (document.activeElement !== note && note.value !== (l.note || "")) note.value = l.note || "";
    setText(noteHint, l.history ? "" : "History is off: the note and star last for this session only.");
    show(noteHint, !l.history && !!(l.note || l.starred));
    if (changed && el.open) loadCode();
  }

  return { el, update, destroy: () => noteSave.flush() };
}
