// @ts-check
/**
 * One task card, bound to the task's card model (a child model shared by every view), used by
 * the panel, the TaskWidget and the gallery. Video first, at the card's full width; status,
 * progress, elapsed, ETA and cost on one line; the rest folded into `card-details`.
 * A card updates in place, so its <video> never reloads because something else changed.
 */
import { h, setText, show, setSrc, safeSrc, fmtDuration, copyText } from "./dom.js";
import { createDetails } from "./details.js";
import { ACTIONS } from "./protocol.js";

/** @typedef {import("./protocol.js").CardInfo} CardInfo */
/** @typedef {import("./protocol.js").CardLive} CardLive */

const PILL = /** @type {Record<string, string>} */ ({
  pending: "wait", processing: "run", completed: "ok", failed: "bad", cancelled: "off",
});
/** The kernel's actions (protocol.js), each with its label and tooltip. */
const ACTION_LABELS = /** @type {Record<string, [string, string]>} */ ({
  extend: ["Extend", "Continue this video in a new task"],
  use_last_frame: ["Use last frame", "Start a new image-to-video task from the last frame"],
  rerun: ["Re-run", "Load this request into the panel to run it again, with edits"],
});

/**
 * @param {string} label
 * @param {string} testid
 * @param {() => void} onclick
 * @param {string} [title]
 */
const button = (label, testid, onclick, title = "") =>
  h("button", { type: "button", class: "sw-btn sw-small-btn", testid, onclick, title: title || null }, label);

/**
 * @param {{send: import("./protocol.js").Send, media: import("./media.js").Media,
 *   code: import("./media.js").CodeCache, rootTestid: string, head?: HTMLElement}} opts
 */
export function createCard({ send, media, code, rootTestid, head }) {
  /** @type {any} */
  let bound = null;
  /** @type {CardInfo | null} */
  let info = null;
  /** @type {CardLive | null} */
  let live = null;
  /** @type {{id: string, video: string, unsub: (() => void)[]}} */
  let st = { id: "", video: "", unsub: [] };

  const video = h("video", { controls: true, playsinline: true, preload: "metadata", testid: "video", onerror: onVideoError });
  const stage = h("div", { class: "sw-stage-msg" });
  const mediaBox = h("div", { class: "sw-card-media" }, video, stage);
  const pill = h("span", { class: "sw-pill", testid: "task-status" });
  const bar = h("div", { class: "sw-bar" });
  const progress = h("div", {
    class: "sw-progress", role: "progressbar", testid: "task-progress",
    "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "Progress",
  }, bar);
  const pct = h("span", { class: "sw-muted sw-num" });
  const elapsed = h("span", { class: "sw-muted sw-num", testid: "elapsed", title: "Elapsed" });
  const eta = h("span", { class: "sw-muted sw-num", testid: "eta" });
  const cost = h("span", { class: "sw-cost", testid: "cost" });
  const title = h("div", { class: "sw-card-title" });
  const prompt = h("p", { class: "sw-prompt", title: "Click to show all", onclick: () => prompt.classList.toggle("sw-open") });
  const error = h("div", { class: "sw-err", role: "alert", testid: "error" });
  const message = h("div", { class: "sw-muted sw-small", role: "status", testid: "cancel-result" });
  const star = h("button", { type: "button", class: "sw-icon sw-star", testid: "star", "aria-pressed": "false", onclick: onStar });
  const actions = Object.fromEntries(ACTIONS.map((a) => [a, button(ACTION_LABELS[a][0], a.replace(/_/g, "-"), () => act(a), ACTION_LABELS[a][1])]));
  const cancel = button("Cancel", "cancel", onCancel);
  const save = button("Save", "save", onSave, "Download the video into the kernel's data folder");
  const copy = button("Copy code", "copy-code", onCopy, "Copy Python that makes this video again");
  copy.addEventListener("mouseenter", () => id() && code.get(id(), () => {}));
  const details = createDetails({ send, code, media });

  const el = h("article", { class: "sw-card", testid: rootTestid },
    mediaBox,
    h("div", { class: "sw-card-line" }, head, pill, progress, pct, elapsed, eta, h("span", { class: "sw-grow" }), cost, star),
    title, prompt, error, message,
    h("div", { class: "sw-card-actions" }, ACTIONS.map((a) => actions[a]), cancel, save, copy),
    details.el);

  function id() {
    return info ? info.id : "";
  }

  /** @param {string} action */
  function act(action) {
    if (info) send({ type: "action", action, id: info.id });
  }

  function onCancel() {
    if (!info || cancel.disabled) return;
    cancel.disabled = true; // one request per click; the kernel's answer re-renders the card
    setText(message, "Cancelling…");
    send({ type: "cancel", id: info.id });
  }

  function onSave() {
    if (!info) return;
    save.disabled = true;
    setTimeout(() => (save.disabled = false), 1500);
    send({ type: "save", id: info.id });
  }

  function onStar() {
    if (!info || !live) return;
    send({ type: "star", id: info.id, starred: !live.starred });
  }

  async function onCopy() {
    if (!info) return;
    const tid = info.id;
    const ready = code.peek(tid);
    const done = async (/** @type {import("./protocol.js").CodeMsg} */ c) => {
      const ok = await copyText(c.python || "");
      setText(copy, ok ? "Copied" : "Copy failed");
      setTimeout(() => setText(copy, "Copy code"), 1500);
    };
    if (ready) await done(ready);
    else {
      setText(copy, "Copying…");
      code.get(tid, (c) => void done(c));
    }
  }

  function onVideoError() {
    if (st.video === "url") fetchVideo();
    else if (st.video === "kernel" && video.getAttribute("src")) setText(stage, "This browser cannot play the video; use Save to keep the file.");
  }

  function fetchVideo() {
    if (!info || st.video === "kernel") return;
    st.video = "kernel";
    const tid = info.id;
    setText(stage, "Loading the video from the kernel…");
    st.unsub.push(media.request("video", tid, (url) => {
      if (st.id !== tid) return;
      setText(stage, "");
      setSrc(video, url);
    }));
  }

  function resetMedia() {
    for (const u of st.unsub) u();
    st = { id: id(), video: "", unsub: [] };
    video.removeAttribute("src");
    cancel.disabled = false;
  }

  function render() {
    if (!info || !live) return;
    const l = live;
    const i = info;
    el.dataset.status = l.display_status;
    setText(pill, l.display_status);
    pill.className = `sw-pill sw-pill-${PILL[l.display_status] || "off"}`;
    setText(title, [i.model, i.operation].filter(Boolean).join(" · "));
    setText(prompt, i.prompt || "");
    show(prompt, !!i.prompt);
    setText(cost, l.cost_label || "");
    cost.classList.toggle("sw-muted", !l.charged);
    setText(star, l.starred ? "★" : "☆");
    star.setAttribute("aria-pressed", String(!!l.starred));
    star.title = l.starred ? "Starred (click to unstar)" : "Star this run";
    const failed = l.status === "failed" && l.display_status !== "cancelled";
    setText(error, l.error || (failed ? "The task failed." : ""));
    show(error, !!l.error || failed);
    // media: the video when there is one, else the stage shows where the task is
    const done = l.succeeded;
    show(video, done);
    if (done && !st.video) {
      const direct = l.video_src === "url" && !media.get("video", i.id) ? safeSrc(l.video_url) : "";
      if (direct) {
        st.video = "url";
        setSrc(video, direct);
      } else fetchVideo();
    }
    if (!done) setText(stage, l.terminal ? (l.display_status === "cancelled" ? "Stopped before it ran: no video" : "No video") : l.status === "pending" ? "Queued…" : "Generating…");
    else if (st.video === "url") setText(stage, "");
    show(stage, !done || !!stage.textContent);
    mediaBox.classList.toggle("sw-empty-media", !done);
    updateProgress(l);
    // buttons: what the kernel offers, nothing decided here
    for (const a of ACTIONS) show(actions[a], l.actions.includes(a));
    show(cancel, !l.terminal);
    cancel.disabled = !l.can_cancel;
    cancel.title = l.can_cancel ? "Cancel this task" : "Only pending tasks can be cancelled";
    if (l.cancel_message || l.terminal) setText(message, l.cancel_message && l.cancel_message !== "cancelled" ? l.cancel_message : "");
    show(save, done && !l.saved_path);
    details.update(i, l);
    tick(Date.now());
  }

  /** @param {CardLive} l */
  function updateProgress(l) {
    const known = typeof l.progress === "number" && l.status !== "pending";
    const value = l.succeeded ? 100 : known ? Math.max(0, Math.min(100, /** @type {number} */ (l.progress))) : null;
    progress.classList.toggle("sw-indeterminate", !l.terminal && value == null);
    if (value == null) progress.removeAttribute("aria-valuenow");
    else progress.setAttribute("aria-valuenow", String(value));
    bar.style.width = value == null ? "" : `${value}%`;
    show(progress, !l.terminal);
    setText(pct, !l.terminal && value != null ? `${value}%` : "");
  }

  /** @param {number} now */
  function tick(now) {
    if (!info || !live) return;
    const end = live.finished_ms != null ? live.finished_ms : live.terminal ? null : now;
    const has = info.created_ms != null && end != null;
    setText(elapsed, has ? fmtDuration((/** @type {number} */ (end) - /** @type {number} */ (info.created_ms)) / 1000) : "");
    show(elapsed, has);
    const left = live.eta_s != null && !live.terminal ? live.eta_s - (live.eta_at_ms != null ? (now - live.eta_at_ms) / 1000 : 0) : null;
    setText(eta, left == null ? "" : left >= 1 ? `~${fmtDuration(left)} left` : "almost done");
    show(eta, left != null);
  }

  function onLive() {
    live = bound.get("live");
    render();
  }

  function onInfo() {
    const next = bound.get("info");
    const changed = !info || info.id !== next.id;
    info = next;
    if (changed) resetMedia();
    render();
  }

  function unbind() {
    if (!bound) return;
    bound.off("change:live", onLive);
    bound.off("change:info", onInfo);
    bound = null;
  }

  /** @param {any} cardModel */
  function bind(cardModel) {
    if (cardModel === bound) return;
    unbind();
    bound = cardModel;
    cardModel.on("change:live", onLive);
    cardModel.on("change:info", onInfo);
    info = null;
    live = cardModel.get("live");
    onInfo();
  }

  function destroy() {
    unbind();
    for (const u of st.unsub) u();
    details.destroy();
    video.pause();
    video.removeAttribute("src");
    video.load(); // release the decoder and network connection
    el.remove();
  }

  return {
    el, bind, tick, destroy, video,
    get info() { return info; },
    get live() { return live; },
  };
}

/** @typedef {ReturnType<typeof createCard>} Card */
