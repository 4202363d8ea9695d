// @ts-check
/**
 * Tiny DOM helpers shared by every view.
 *
 * Security rule of the whole front end: server and user strings only ever reach the page as
 * text (Text nodes / textContent), and only http(s), blob: and data:image URLs ever reach a
 * src/href. These helpers are the one place that enforces it, so views never touch innerHTML.
 */

/** Properties that must be set as DOM properties (attributes would not update live state). */
const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "muted", "indeterminate"]);

/**
 * Only http:, https:, blob: and data:image/… survive; anything else (javascript:, relative
 * paths, asset://, upload://) becomes "" so callers can fall back to a placeholder.
 * @param {unknown} url
 * @returns {string}
 */
export function safeSrc(url) {
  if (typeof url !== "string") return "";
  const u = url.trim();
  if (/^data:image\/[a-z0-9.+-]+[;,]/i.test(u)) return u;
  try {
    const p = new URL(u).protocol;
    return p === "http:" || p === "https:" || p === "blob:" ? u : "";
  } catch {
    return "";
  }
}

/**
 * Build an element. `attrs`: `class`, `testid` (-> data-testid), `onX` functions (listeners),
 * DOM properties from PROPS, anything else as an attribute (src/href pass through safeSrc).
 * String children become Text nodes, so markup in them is never parsed.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {any}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "testid") el.setAttribute("data-testid", v);
    else if (k.startsWith("on")) {
      // A string here would be an inline script: only real functions become listeners.
      if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (PROPS.has(k)) /** @type {any} */ (el)[k] = v;
    else if (k === "src" || k === "href") {
      const s = safeSrc(v);
      if (s) el.setAttribute(k, s);
    } else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {any[]} children
 */
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replace an element's children (strings as text).
 * @param {Element} el
 * @param {...any} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Render <option>s only when the list changes, so an open dropdown is not rebuilt under the
 * user. A value the list does not contain stays visible, marked, instead of silently vanishing.
 * @param {HTMLSelectElement} select
 * @param {[string, string][]} opts value/label pairs
 * @param {unknown} value
 */
export function setOptions(select, opts, value) {
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
 * Set text only when it changed: avoids needless layout work on every tick.
 * @param {Element} el
 * @param {unknown} text
 */
export function setText(el, text) {
  const s = text == null ? "" : String(text);
  if (el.textContent !== s) el.textContent = s;
}

/**
 * @param {HTMLElement} el
 * @param {unknown} shown
 */
export function show(el, shown) {
  el.hidden = !shown;
}

/**
 * Assign a media src only when it changes: re-assigning the same URL restarts a <video>.
 * @param {HTMLMediaElement | HTMLImageElement} el
 * @param {string} src
 */
export function setSrc(el, src) {
  const s = safeSrc(src);
  if (s && el.getAttribute("src") !== s) el.setAttribute("src", s);
}

/**
 * "12s", "1m 05s", "2h 03m".
 * @param {number} seconds
 */
export function fmtDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
}

/** @param {number} usd */
export const fmtUsd = (usd) => `$${usd.toFixed(2)}`;

/** A random whole number 0 to 2^32 - 1 (a seed, or a key), from the browser's CSPRNG. */
export function randomU32() {
  const a = new Uint32Array(1);
  crypto.getRandomValues(a);
  return a[0];
}

/**
 * Clipboard with a fallback for non-secure contexts (http:// Jupyter servers).
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h("textarea", { class: "sw-offscreen", readonly: true, value: text });
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/**
 * Show an error inside the widget (never lost in the console only).
 * @param {HTMLElement} el
 * @param {unknown} err
 */
export function showError(el, err) {
  console.error("seedance_widgets:", err);
  /** @type {Element} */
  let line = el.querySelector(":scope > .sw-fatal") || h("div", { class: "sw-fatal sw-err", role: "alert", testid: "error" });
  if (!line.parentNode) el.prepend(line);
  setText(line, `Widget error: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * @template {any[]} A
 * @param {HTMLElement} el
 * @param {(...args: A) => any} fn
 * @returns {(...args: A) => any}
 */
export function guard(el, fn) {
  return (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      showError(el, e);
    }
  };
}

/**
 * Collects everything a view must undo, so a view that throws halfway still cleans up.
 * @param {HTMLElement} el
 */
export function lifecycle(el) {
  /** @type {(() => void)[]} */
  const fns = [];
  return {
    /** @param {() => void} fn */
    add(fn) {
      fns.push(fn);
    },
    /**
     * @param {any} model
     * @param {string} evt
     * @param {(...a: any[]) => void} fn
     */
    on(model, evt, fn) {
      const g = guard(el, fn);
      model.on(evt, g);
      fns.push(() => model.off(evt, g));
    },
    /**
     * @param {number} ms
     * @param {() => void} fn
     */
    every(ms, fn) {
      const id = setInterval(guard(el, fn), ms);
      fns.push(() => clearInterval(id));
    },
    dispose() {
      while (fns.length) {
        try {
          /** @type {() => void} */ (fns.pop())();
        } catch (e) {
          console.error("seedance_widgets cleanup:", e);
        }
      }
    },
  };
}

/** @typedef {ReturnType<typeof lifecycle>} Life */

/**
 * Trailing-edge debounce with an explicit flush (submit must not lose the last keystrokes).
 * @param {() => void} fn
 * @param {number} ms
 */
export function debounce(fn, ms) {
  /** @type {any} */
  let timer = 0;
  return {
    schedule() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timer = 0;
        fn();
      }, ms);
    },
    flush() {
      if (!timer) return;
      clearTimeout(timer);
      timer = 0;
      fn();
    },
    cancel() {
      clearTimeout(timer);
      timer = 0;
    },
  };
}

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
    else if (k === "return_last_frame") out.push(v ? "last frame" : "");
    else if (k === "resolution" || k === "aspect_ratio") out.push(String(v));
    else if (typeof v !== "object") out.push(`${k} ${v}`);
  }
  return out.filter(Boolean).join(" · ");
}
