// @ts-check
/**
 * Per-view cache of kernel-delivered media (videos the browser cannot fetch itself, last
 * frames) as blob URLs, keyed by kind + task id, so re-rendered cards and the compare view
 * never ask the kernel for the same bytes twice.
 */
import { safeSrc } from "./dom.js";

/**
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
  function receive(msg, buffers) {
    if (!buffers || !buffers[0]) return;
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
  life.add(() => {
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
    waiting.clear();
  });
  return {
    receive,
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

/** @typedef {ReturnType<typeof createMedia>} Media */

/**
 * Resolve a completed task's playable src: the direct URL when allowed, else kernel bytes.
 * @param {Media} media
 * @param {string} id
 * @param {import("./protocol.js").CardLive} live
 * @param {(url: string) => void} fn
 */
export function resolveVideo(media, id, live, fn) {
  const blob = media.get("video", id);
  const direct = live.video_src === "url" ? safeSrc(live.video_url) : "";
  if (blob || !direct) return media.request("video", id, fn);
  fn(direct);
  return () => {};
}

/**
 * Code snippets of cards, asked of the kernel once per task and view.
 * @param {any} model
 */
export function createCodeCache(model) {
  /** @type {Map<string, import("./protocol.js").CodeMsg>} */
  const have = new Map();
  /** @type {Map<string, ((c: import("./protocol.js").CodeMsg) => void)[]>} */
  const waiting = new Map();
  return {
    /** @param {any} msg */
    receive(msg) {
      have.set(msg.id, msg);
      for (const fn of waiting.get(msg.id) || []) fn(msg);
      waiting.delete(msg.id);
    },
    /** @param {string} id */
    peek: (id) => have.get(id),
    /**
     * @param {string} id
     * @param {(c: import("./protocol.js").CodeMsg) => void} fn
     */
    get(id, fn) {
      const c = have.get(id);
      if (c) return fn(c);
      const list = waiting.get(id);
      if (list) list.push(fn);
      else {
        waiting.set(id, [fn]);
        model.send({ type: "code", id });
      }
    },
  };
}

/** @typedef {ReturnType<typeof createCodeCache>} CodeCache */
