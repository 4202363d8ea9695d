// @ts-check
/**
 * One task card, shared by the panel (`current`), the TaskWidget and the gallery.
 * A card is created once and then updated in place, so its <video> never reloads because
 * some unrelated field (progress of another card, elapsed time…) changed.
 */
import { h, setText, show, setSrc, safeSrc, fmtDuration, fmtUsd, copyText } from "./dom.js";

/**
 * @typedef {{id: string, status: string, progress?: number|null, created_ms?: number|null,
 *   finished_ms?: number|null, eta_s?: number|null, eta_at_ms?: number|null, model?: string,
 *   operation?: string, prompt?: string, params?: Record<string, any>, error?: string|null,
 *   cancelled?: boolean, cost_usd?: number|null, estimate_label?: string, video_url?: string,
 *   last_frame_url?: string, video_src?: string, can_cancel?: boolean, cancel_message?: string,
 *   code?: string, diff?: string[], actions?: string[], saved_path?: string|null}} Task
 * @typedef {(msg: Record<string, any>) => void} Send
 * @typedef {ReturnType<typeof createMedia>} Media
 */

const TERMINAL = ["completed", "failed", "cancelled", "canceled", "expired", "succeeded", "error"];
const PILL = /** @type {Record<string, string>} */ ({
  pending: "wait", queued: "wait", processing: "run", running: "run",
  completed: "ok", succeeded: "ok", failed: "bad", error: "bad", expired: "bad",
});

/** @param {Task} t */
export const isTerminal = (t) => !!t.cancelled || t.finished_ms != null || TERMINAL.includes(t.status);

/** @param {Task} t */
export const statusText = (t) => (t.cancelled ? "cancelled" : String(t.status || "unknown"));

/**
 * "720p · 5s · 16:9 · seed 42 · audio" from whatever params are set.
 * @param {Record<string, any> | undefined} p
 */
export function paramsText(p) {
  if (!p) return "";
  const out = [];
  for (const [k, v] of Object.entries(p)) {
    if (v == null || v === "") continue;
    if (k === "duration") out.push(v === -1 ? "auto length" : `${v}s`);
    else if (k === "seed") out.push(`seed ${v}`);
    else if (k === "output_audio") out.push(v ? "audio" : "no audio");
    else if (k === "resolution" || k === "aspect_ratio") out.push(String(v));
    else if (typeof v !== "object") out.push(`${k} ${v}`);
  }
  return out.join(" · ");
}

/**
 * Per-view cache of kernel-delivered media as blob URLs, keyed by kind + task id, so cards that
 * re-render (or the compare strip) never ask Python for the same bytes twice.
 * @param {any} model
 * @param {import("./dom.js").Life} life
 */
export function createMedia(model, life) {
  /** @type {Map<string, string>} */
  const urls = new Map();
  /** @type {Map<string, Set<(url: string) => void>>} */
  const waiting = new Map();
  /**
   * @param {any} msg
   * @param {any[]} buffers
   */
  function onMsg(msg, buffers) {
    if (!msg || (msg.type !== "video" && msg.type !== "frame") || !buffers || !buffers[0]) return;
    const key = `${msg.type}:${msg.id}`;
    let url = urls.get(key);
    // Keep the first URL: revoking one a <video> is playing would break seeking.
    if (!url) {
      url = URL.createObjectURL(new Blob([buffers[0]], { type: String(msg.mime || "") }));
      urls.set(key, url);
    }
    const fns = waiting.get(key);
    waiting.delete(key);
    for (const fn of fns || []) fn(url);
  }
  life.on(model, "msg:custom", onMsg);
  life.add(() => {
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
    waiting.clear();
  });
  return {
    /**
     * @param {"video"|"frame"} kind
     * @param {string} id
     */
    get: (kind, id) => urls.get(`${kind}:${id}`),
    /**
     * Calls fn with the blob URL (now if cached); returns an unsubscribe function.
     * @param {"video"|"frame"} kind
     * @param {string} id
     * @param {(url: string) => void} fn
     */
    request(kind, id, fn) {
      const key = `${kind}:${id}`;
      const have = urls.get(key);
      if (have) {
        fn(have);
        return () => {};
      }
      let set = waiting.get(key);
      if (!set) {
        set = new Set();
        waiting.set(key, set);
        model.send({ type: kind === "video" ? "need_video" : "need_frame", id });
      }
      set.add(fn);
      const s = set;
      return () => s.delete(fn);
    },
  };
}

/**
 * Resolve a completed task's playable src: the direct URL when allowed, else kernel bytes.
 * @param {Media} media
 * @param {Task} t
 * @param {(url: string) => void} fn
 */
export function resolveVideo(media, t, fn) {
  const blob = media.get("video", t.id);
  const direct = t.video_src === "url" ? safeSrc(t.video_url) : "";
  if (blob || !direct) return media.request("video", t.id, fn);
  fn(direct);
  return () => {};
}

/**
 * @param {string} label
 * @param {string} testid
 * @param {() => void} onclick
 * @param {string} [cls]
 */
const button = (label, testid, onclick, cls = "") =>
  h("button", { type: "button", class: `sw-btn ${cls}`, testid, onclick }, label);

/**
 * @param {{send: Send, media: Media, head?: HTMLElement, rootTestid?: string}} opts
 */
export function createCard({ send, media, head, rootTestid }) {
  /** @type {Task | null} */
  let task = null;
  /** @type {{id: string, video: string, frame: string, cancelMsg: string|undefined, unsub: (() => void)[]}} */
  let st = { id: "", video: "", frame: "", cancelMsg: undefined, unsub: [] };

  const pill = h("span", { class: "sw-pill", testid: "task-status" });
  const title = h("span", { class: "sw-card-title" });
  const elapsed = h("span", { class: "sw-muted", testid: "elapsed" });
  const eta = h("span", { class: "sw-muted", testid: "eta" });
  const bar = h("div", { class: "sw-bar" });
  const progress = h("div", {
    class: "sw-progress", role: "progressbar", testid: "task-progress",
    "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "Progress",
  }, bar);
  const prompt = h("p", { class: "sw-prompt", title: "Click to expand", onclick: () => prompt.classList.toggle("sw-open") });
  const diff = h("ul", { class: "sw-diff", testid: "card-diff" });
  const params = h("div", { class: "sw-muted sw-small" });
  const error = h("div", { class: "sw-err", role: "alert", testid: "error" });
  const video = h("video", { controls: true, playsinline: true, preload: "metadata", testid: "video", onerror: onVideoError });
  const frame = h("img", { class: "sw-frame", alt: "Last frame", testid: "last-frame", onerror: onFrameError });
  const frameBox = h("figure", { class: "sw-frame-box" }, frame, h("figcaption", { class: "sw-muted sw-small" }, "last frame"));
  const mediaNote = h("div", { class: "sw-muted sw-small" });
  const mediaBox = h("div", { class: "sw-media" }, video, frameBox);
  const cost = h("span", { class: "sw-cost", testid: "cost" });
  const taskId = h("code", { class: "sw-id", testid: "card-id" });
  const cancel = button("Cancel", "cancel", onCancel);
  const cancelResult = h("span", { class: "sw-muted sw-small", role: "status", testid: "cancel-result" });
  const save = button("Save", "save", onSave);
  const saved = h("span", { class: "sw-muted sw-small sw-path" });
  const extend = button("Extend", "extend", () => action("extend"));
  const useLast = button("Use last frame", "use-last-frame", () => action("use_last_frame"));
  const rerun = button("Re-run", "rerun", () => action("rerun"));
  const copy = button("Copy code", "copy-code", onCopy);

  const el = h("article", { class: "sw-card", testid: rootTestid },
    h("header", { class: "sw-card-head" }, head, pill, title, h("span", { class: "sw-grow" }), elapsed, eta),
    progress, prompt, diff, params, error, mediaBox, mediaNote,
    h("div", { class: "sw-card-foot" }, cost, taskId, h("span", { class: "sw-grow" }), cancel, save, extend, useLast, rerun, copy),
    h("div", { class: "sw-card-msgs" }, cancelResult, saved));

  function resetMedia() {
    for (const u of st.unsub) u();
    st = { id: task ? task.id : "", video: "", frame: "", cancelMsg: undefined, unsub: [] };
    video.removeAttribute("src");
    frame.removeAttribute("src");
    setText(mediaNote, "");
    cancel.disabled = false;
  }

  /** @param {string} action */
  function action(action) {
    if (task) send({ type: "action", action, id: task.id });
  }

  function onCancel() {
    if (!task || cancel.disabled) return;
    cancel.disabled = true; // one request per click; re-enabled when Python answers
    st.cancelMsg = task.cancel_message || "";
    setText(cancelResult, "Cancelling…");
    send({ type: "cancel", id: task.id });
  }

  function onSave() {
    if (!task) return;
    save.disabled = true;
    setTimeout(() => (save.disabled = false), 1500);
    send({ type: "save", id: task.id });
  }

  async function onCopy() {
    if (!task) return;
    const ok = await copyText(task.code || "");
    setText(copy, ok ? "Copied" : "Copy failed");
    setTimeout(() => setText(copy, "Copy code"), 1500);
  }

  function fetchVideo() {
    if (!task || st.video === "kernel") return;
    st.video = "kernel";
    const id = task.id;
    setText(mediaNote, "Loading video from the kernel…");
    st.unsub.push(media.request("video", id, (url) => {
      if (st.id !== id) return;
      setText(mediaNote, "");
      setSrc(video, url);
    }));
  }

  function onVideoError() {
    if (st.video === "url") fetchVideo();
    else if (st.video === "kernel" && video.getAttribute("src")) setText(mediaNote, "This browser cannot play the video; use Save to keep the file.");
  }

  function fetchFrame() {
    if (!task || st.frame === "kernel") return;
    st.frame = "kernel";
    const id = task.id;
    st.unsub.push(media.request("frame", id, (url) => st.id === id && setSrc(frame, url)));
  }

  function onFrameError() {
    if (st.frame === "url") fetchFrame();
  }

  /** @param {Task} t */
  function updateMedia(t) {
    const done = t.status === "completed" && !t.cancelled;
    show(mediaBox, done);
    if (!done) return;
    if (!st.video) {
      const direct = t.video_src === "url" && !media.get("video", t.id) ? safeSrc(t.video_url) : "";
      if (direct) {
        st.video = "url";
        setSrc(video, direct);
      } else fetchVideo();
    }
    show(frameBox, !!t.last_frame_url);
    if (t.last_frame_url && !st.frame) {
      const direct = safeSrc(t.last_frame_url);
      if (direct) {
        st.frame = "url";
        setSrc(frame, direct);
      } else fetchFrame();
    }
  }

  /** @param {Task} t */
  function updateProgress(t) {
    const done = t.status === "completed" && !t.cancelled;
    const known = typeof t.progress === "number" && t.status !== "pending";
    const value = done ? 100 : known ? Math.max(0, Math.min(100, /** @type {number} */ (t.progress))) : null;
    const active = !isTerminal(t);
    progress.classList.toggle("sw-indeterminate", active && value == null);
    if (value == null) progress.removeAttribute("aria-valuenow");
    else progress.setAttribute("aria-valuenow", String(value));
    bar.style.width = value == null ? "" : `${value}%`;
    show(progress, active || done);
  }

  /** @param {Task} t */
  function updateButtons(t) {
    const acts = t.actions || [];
    const done = t.status === "completed" && !t.cancelled;
    const active = !isTerminal(t);
    show(cancel, active);
    if (st.cancelMsg !== undefined && (t.cancel_message || "") !== st.cancelMsg) st.cancelMsg = undefined;
    const canCancel = t.status === "pending" && !!t.can_cancel && st.cancelMsg === undefined;
    cancel.disabled = !canCancel;
    cancel.title = canCancel ? "Cancel this task" : t.status === "pending" ? "This model cannot be cancelled" : "Only pending tasks can be cancelled";
    if (st.cancelMsg === undefined) setText(cancelResult, t.cancel_message || "");
    show(save, done);
    setText(saved, t.saved_path ? `Saved to ${t.saved_path}` : "");
    show(extend, done && acts.includes("extend"));
    show(useLast, done && !!t.last_frame_url && acts.includes("use_last_frame"));
    show(rerun, isTerminal(t) && acts.includes("rerun"));
    show(copy, !!t.code);
  }

  /** @param {Task} t */
  function update(t) {
    if (!t || typeof t !== "object") return;
    const changedId = !task || task.id !== t.id;
    task = t;
    if (changedId) resetMedia();
    const state = statusText(t);
    setText(pill, state);
    pill.className = `sw-pill sw-pill-${t.cancelled ? "off" : PILL[t.status] || "off"}`;
    setText(title, [t.model, t.operation].filter(Boolean).join(" · "));
    setText(prompt, t.prompt || "");
    show(prompt, !!t.prompt);
    const lines = Array.isArray(t.diff) ? t.diff : [];
    if (diff.childElementCount !== lines.length || lines.some((l, i) => diff.children[i].textContent !== l)) {
      diff.replaceChildren(...lines.map((l) => h("li", null, l)));
    }
    show(diff, lines.length > 0);
    setText(params, paramsText(t.params));
    const failed = t.status === "failed" && !t.cancelled;
    setText(error, t.error || (failed ? "The task failed." : ""));
    show(error, !!t.error || failed);
    setText(cost, t.cost_usd != null ? `${fmtUsd(t.cost_usd)} charged` : t.estimate_label || "");
    setText(taskId, t.id);
    taskId.title = "Task id";
    el.dataset.status = state;
    updateProgress(t);
    updateMedia(t);
    updateButtons(t);
    tick(Date.now());
  }

  /** @param {number} now */
  function tick(now) {
    if (!task) return;
    const t = task;
    const end = t.finished_ms != null ? t.finished_ms : isTerminal(t) ? null : now;
    const hasElapsed = t.created_ms != null && end != null;
    setText(elapsed, hasElapsed ? fmtDuration((/** @type {number} */ (end) - /** @type {number} */ (t.created_ms)) / 1000) : "");
    show(elapsed, hasElapsed);
    const left = t.eta_s != null && !isTerminal(t) ? t.eta_s - (t.eta_at_ms != null ? (now - t.eta_at_ms) / 1000 : 0) : null;
    setText(eta, left == null ? "" : left >= 1 ? `~${fmtDuration(left)} left` : "almost done");
    show(eta, left != null);
  }

  function destroy() {
    for (const u of st.unsub) u();
    video.pause();
    video.removeAttribute("src");
    video.load(); // release the decoder and network connection
    el.remove();
  }

  return { el, update, tick, destroy, video, get task() { return task; } };
}

/** @typedef {ReturnType<typeof createCard>} Card */
