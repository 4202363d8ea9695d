// @ts-check
/**
 * Gallery view: a filterable grid of task cards plus a side-by-side compare strip.
 * Cards are kept in a Map by id and updated in place, so one card's progress never reloads
 * another card's video.
 */
import { createCard, createMedia, resolveVideo, isTerminal, statusText, paramsText } from "./card.js";
import { h, fill, setText, show } from "./dom.js";

const STATUSES = ["all", "pending", "processing", "completed", "failed", "cancelled"];

/**
 * @param {HTMLSelectElement} select
 * @param {string[]} values
 */
function setChoices(select, values) {
  const key = values.join("\n");
  if (select.dataset.key === key) return;
  const keep = select.value;
  select.dataset.key = key;
  fill(select, values.map((v) => h("option", { value: v }, v)));
  select.value = values.includes(keep) ? keep : "all";
}

/**
 * @param {{model: any, el: HTMLElement, life: import("./dom.js").Life}} ctx
 */
export function renderGallery({ model, el, life }) {
  const media = createMedia(model, life);
  const send = (/** @type {any} */ msg) => model.send(msg);
  /** @type {Map<string, {card: import("./card.js").Card, check: HTMLInputElement}>} */
  const items = new Map();
  /** @type {Set<string>} */
  const selected = new Set();
  /** @type {(() => void)[]} */
  let compareCleanup = [];

  const title = h("h3", { class: "sw-title" });
  const count = h("span", { class: "sw-muted" });
  const status = h("select", { testid: "filter-status", "aria-label": "Filter by status", onchange: applyFilters },
    STATUSES.map((s) => h("option", { value: s }, s)));
  const modelSel = h("select", { testid: "filter-model", "aria-label": "Filter by model", onchange: applyFilters });
  setChoices(modelSel, ["all"]);
  const compareBtn = h("button", { type: "button", class: "sw-btn sw-primary", testid: "compare", onclick: openCompare });
  const compareView = h("section", { class: "sw-compare", testid: "compare-view", hidden: true });
  const grid = h("div", { class: "sw-grid" });
  const empty = h("p", { class: "sw-muted sw-empty" }, "No tasks yet.");
  const root = h("div", { class: "sw-root sw-gallery" },
    h("header", { class: "sw-gal-head" }, title, count, h("span", { class: "sw-grow" }),
      h("label", { class: "sw-inline" }, "Status ", status),
      h("label", { class: "sw-inline" }, "Model ", modelSel), compareBtn),
    compareView, grid, empty);
  el.append(root);
  life.add(() => {
    closeCompare();
    for (const it of items.values()) it.card.destroy();
    items.clear();
    root.remove();
  });

  /** @param {string} id */
  function makeItem(id) {
    const check = h("input", {
      type: "checkbox", testid: "compare-select", "aria-label": "Select for comparison",
      onchange: () => {
        if (check.checked) selected.add(id);
        else selected.delete(id);
        updateCompareBtn();
      },
    });
    const card = createCard({ send, media, head: h("label", { class: "sw-check", title: "Compare" }, check), rootTestid: "gallery-card" });
    return { card, check };
  }

  function tasks() {
    const list = model.get("tasks");
    return Array.isArray(list) ? list.filter((t) => t && t.id != null) : [];
  }

  function sync() {
    setText(title, model.get("title") || "Seedance videos");
    const list = tasks();
    /** @type {Set<string>} */
    const seen = new Set();
    /** @type {Element | null} */
    let prev = null;
    for (const t of list) {
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      let item = items.get(t.id);
      if (!item) {
        item = makeItem(t.id);
        items.set(t.id, item);
      }
      item.card.update(t);
      // Move only nodes that are out of place: moving a playing <video> can pause it.
      const want = prev ? prev.nextSibling : grid.firstChild;
      if (want !== item.card.el) grid.insertBefore(item.card.el, want);
      prev = item.card.el;
    }
    for (const [id, item] of items) {
      if (seen.has(id)) continue;
      item.card.destroy();
      items.delete(id);
      selected.delete(id);
    }
    setChoices(modelSel, ["all", ...new Set(list.map((t) => String(t.model || "")).filter(Boolean))]);
    applyFilters();
    updateCompareBtn();
  }

  function applyFilters() {
    const s = status.value;
    const m = modelSel.value;
    let shown = 0;
    for (const { card } of items.values()) {
      const t = /** @type {import("./card.js").Task} */ (card.task);
      const ok = (s === "all" || statusText(t) === s) && (m === "all" || t.model === m);
      card.el.hidden = !ok;
      if (ok) shown++;
    }
    const n = items.size;
    setText(count, shown === n ? `${n} task${n === 1 ? "" : "s"}` : `${shown} of ${n} tasks`);
    show(empty, shown === 0);
    setText(empty, n ? "No task matches the filters." : "No tasks yet.");
  }

  function updateCompareBtn() {
    setText(compareBtn, `Compare (${selected.size})`);
    show(compareBtn, selected.size >= 2);
  }

  function closeCompare() {
    for (const fn of compareCleanup) fn();
    compareCleanup = [];
    compareView.replaceChildren();
    compareView.hidden = true;
  }

  function openCompare() {
    closeCompare();
    const picked = tasks().filter((t) => selected.has(t.id));
    /** @type {HTMLVideoElement[]} */
    const videos = [];
    const cols = picked.map((t) => {
      const done = t.status === "completed" && !t.cancelled;
      let player;
      if (done) {
        const v = h("video", { controls: true, playsinline: true, preload: "auto" });
        compareCleanup.push(resolveVideo(media, t, (url) => v.setAttribute("src", url)));
        compareCleanup.push(() => v.pause());
        videos.push(v);
        player = v;
      } else player = h("div", { class: "sw-placeholder" }, `${statusText(t)}: no video yet`);
      return h("figure", { class: "sw-compare-col" }, player,
        h("figcaption", null, h("div", { class: "sw-prompt sw-open" }, t.prompt || ""),
          h("div", { class: "sw-muted sw-small" }, [t.model, paramsText(t.params)].filter(Boolean).join(" · "))));
    });
    const playAll = () => {
      for (const v of videos) {
        v.currentTime = 0;
        v.play().catch(() => {}); // a video that cannot play must not stop the others
      }
    };
    fill(compareView,
      h("div", { class: "sw-compare-bar" }, h("strong", null, `Comparing ${picked.length}`), h("span", { class: "sw-grow" }),
        h("button", { type: "button", class: "sw-btn sw-primary", onclick: playAll, disabled: !videos.length }, "▶ Play all"),
        h("button", { type: "button", class: "sw-btn", onclick: closeCompare }, "Close")),
      h("div", { class: "sw-compare-strip" }, cols));
    compareView.hidden = false;
  }

  life.on(model, "change:tasks", sync);
  life.on(model, "change:title", sync);
  life.every(1000, () => {
    const now = Date.now();
    for (const { card } of items.values()) if (card.task && !isTerminal(card.task)) card.tick(now);
  });
  sync();
  return () => life.dispose();
}
