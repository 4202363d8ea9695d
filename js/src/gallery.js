// @ts-check
/**
 * Gallery view: the newest runs first, a page at a time (`gallery-more`), search over prompts
 * and filters answered by the kernel from the history, starred-only, and a compare mode.
 * Each card is bound to its task's card model, so a poll of one task re-renders one card.
 */
import { createCard } from "./card.js";
import { createCompare } from "./compare.js";
import { createMedia, createCodeCache } from "./media.js";
import { h, setText, show, debounce, setOptions } from "./dom.js";
import { onMessages, childModel } from "./protocol.js";

const STATUSES = ["all", "pending", "processing", "completed", "failed", "cancelled"];

/**
 * A filter's <select>: "All" first; a value it does not offer (any more) shows as All.
 * @param {HTMLSelectElement} select
 * @param {string[]} values
 * @param {string} value
 */
function setChoices(select, values, value) {
  setOptions(select, values.map((v) => [v, v === "all" ? "All" : v]), values.includes(value) ? value : "all");
}

/**
 * @param {{model: any, el: HTMLElement, host: any, life: import("./dom.js").Life}} ctx
 */
export function renderGallery({ model, el, host, life }) {
  const send = (/** @type {any} */ msg) => model.send(msg);
  const media = createMedia(model, life);
  const code = createCodeCache(model);
  onMessages(model, life, { video: media.receive, frame: media.receive, code: code.receive });
  /** @type {Map<string, {card: import("./card.js").Card, check: HTMLInputElement, child: any}>} */
  const items = new Map();
  /** @type {Set<string>} */
  const selected = new Set();
  let selecting = false;
  let seq = 0;

  const title = h("h3", { class: "sw-title" });
  const count = h("span", { class: "sw-muted sw-small", testid: "gallery-count" });
  const search = h("input", { type: "search", class: "sw-search", testid: "gallery-search", placeholder: "Search prompts", "aria-label": "Search prompts", oninput: () => query.schedule() });
  const status = h("select", { testid: "filter-status", "aria-label": "Status", onchange: () => sendQuery() });
  const modelSel = h("select", { testid: "filter-model", "aria-label": "Model", onchange: () => sendQuery() });
  const starred = h("input", { type: "checkbox", testid: "filter-starred", onchange: () => sendQuery() });
  const compareBtn = h("button", { type: "button", class: "sw-btn", testid: "compare", "aria-pressed": "false", onclick: toggleSelecting }, "Select to compare");
  const compareGo = h("button", { type: "button", class: "sw-btn sw-primary", testid: "compare-open", onclick: openCompare, hidden: true });
  const compare = createCompare({ media });
  const grid = h("div", { class: "sw-grid" });
  const empty = h("p", { class: "sw-muted sw-empty" });
  const problem = h("p", { class: "sw-muted sw-small", testid: "history-off" });
  const more = h("button", { type: "button", class: "sw-btn sw-more", testid: "gallery-more", onclick: () => { more.disabled = true; send({ type: "more" }); } }, "Show older runs");
  const root = h("div", { class: "sw-root sw-gallery" },
    h("header", { class: "sw-gal-head" },
      h("div", { class: "sw-gal-title" }, title, count, h("span", { class: "sw-grow" }), compareGo, compareBtn),
      h("div", { class: "sw-gal-tools" }, search,
        h("label", { class: "sw-inline" }, "Status", status),
        h("label", { class: "sw-inline" }, "Model", modelSel),
        h("label", { class: "sw-inline" }, starred, "Starred only"))),
    problem, compare.el, grid, empty, h("div", { class: "sw-more-row" }, more));
  el.append(root);
  setChoices(status, STATUSES, "all");
  const query = debounce(sendQuery, 300);
  life.add(() => {
    query.cancel();
    compare.close();
    for (const it of items.values()) it.card.destroy();
    items.clear();
    root.remove();
  });

  function sendQuery() {
    query.cancel();
    send({ type: "query", search: search.value.trim(), status: status.value, model: modelSel.value, starred: starred.checked });
  }

  /** @param {string} ref */
  function makeItem(ref) {
    const check = /** @type {HTMLInputElement} */ (h("input", {
      type: "checkbox", testid: "compare-select", "aria-label": "Select to compare",
      onchange: () => {
        if (check.checked) selected.add(ref);
        else selected.delete(ref);
        updateCompare();
      },
    }));
    const head = h("label", { class: "sw-check", title: "Select to compare" }, check);
    const card = createCard({ send, media, code, rootTestid: "gallery-card", head });
    return { card, check, child: null };
  }

  async function sync() {
    const n = ++seq;
    setText(title, model.get("title") || "Seedance runs");
    const all = /** @type {string[]} */ (model.get("cards") || []);
    // A card model the front end no longer has (marimo closes a cell's models when it runs
    // again) is left out, not allowed to blank the whole gallery; the kernel replaces it.
    const found = await Promise.allSettled(all.map((r) => childModel(host, model, r)));
    if (n !== seq) return; // a newer list arrived meanwhile
    /** @type {string[]} */
    const refs = [];
    /** @type {any[]} */
    const children = [];
    found.forEach((f, k) => {
      if (f.status === "rejected") console.warn("seedance_widgets: no card model for", all[k], f.reason);
      else {
        refs.push(all[k]);
        children.push(f.value);
      }
    });
    /** @type {Element | null} */
    let prev = null;
    refs.forEach((ref, k) => {
      let item = items.get(ref);
      if (!item) {
        item = makeItem(ref);
        items.set(ref, item);
      }
      if (item.child !== children[k]) {
        item.child = children[k];
        item.card.bind(children[k]);
      }
      // Move only nodes that are out of place: moving a playing <video> can pause it.
      const want = prev ? prev.nextSibling : grid.firstChild;
      if (want !== item.card.el) grid.insertBefore(item.card.el, want);
      prev = item.card.el;
    });
    const keep = new Set(refs);
    for (const [ref, item] of items) {
      if (keep.has(ref)) continue;
      item.card.destroy();
      items.delete(ref);
      selected.delete(ref);
    }
    syncStatus();
    updateCompare();
  }

  function syncStatus() {
    /** @type {import("./protocol.js").GalleryStatus} */
    const st = model.get("status") || {};
    const q = model.get("query") || {};
    setChoices(modelSel, ["all", ...(st.models || [])], q.model || "all");
    setChoices(status, STATUSES, q.status || "all");
    starred.checked = !!q.starred;
    if (document.activeElement !== search && search.value !== (q.search || "")) search.value = q.search || "";
    const shown = items.size;
    const total = Math.max(st.total || 0, shown);
    setText(count, total > shown ? `${shown} of ${total} runs` : `${shown} run${shown === 1 ? "" : "s"}`);
    const filtering = !!(q.search || (q.status && q.status !== "all") || (q.model && q.model !== "all") || q.starred);
    setText(empty, filtering ? "No run matches." : "No runs yet: press Generate in the panel.");
    show(empty, shown === 0);
    more.disabled = false;
    show(more, !!st.has_more);
    setText(problem, st.history ? st.problem || "" : `${st.problem || "History is off"}: search, older runs, stars and notes need the history.`);
    show(problem, !st.history || !!st.problem);
  }

  function toggleSelecting() {
    selecting = !selecting;
    compareBtn.setAttribute("aria-pressed", String(selecting));
    setText(compareBtn, selecting ? "Done selecting" : "Select to compare");
    root.classList.toggle("sw-selecting", selecting);
    if (!selecting) {
      selected.clear();
      for (const it of items.values()) it.check.checked = false;
    }
    updateCompare();
  }

  function updateCompare() {
    setText(compareGo, `Compare ${selected.size}`);
    show(compareGo, selecting && selected.size >= 2);
  }

  function openCompare() {
    const runs = [];
    for (const ref of selected) {
      const it = items.get(ref);
      if (it && it.card.info && it.card.live) runs.push({ info: it.card.info, live: it.card.live });
    }
    compare.open(runs);
  }

  life.on(model, "change:cards", () => void sync());
  life.on(model, "change:title", () => void sync());
  life.on(model, "change:status", syncStatus);
  life.on(model, "change:query", syncStatus);
  life.every(1000, () => {
    const now = Date.now();
    for (const { card } of items.values()) if (card.live && !card.live.terminal) card.tick(now);
  });
  void sync();
  return () => life.dispose();
}
