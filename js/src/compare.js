// @ts-check
/**
 * Side-by-side comparison of chosen runs: one player each, played, paused and seeked together,
 * with each run's prompt and parameters beneath.
 */
import { h, fill, show, setSrc, paramsText } from "./dom.js";
import { resolveVideo } from "./media.js";

/**
 * @param {{media: import("./media.js").Media}} opts
 */
export function createCompare({ media }) {
  /** @type {(() => void)[]} */
  let cleanup = [];
  const el = h("section", { class: "sw-compare", testid: "compare-view", hidden: true });

  function close() {
    for (const fn of cleanup) fn();
    cleanup = [];
    el.replaceChildren();
    show(el, false);
  }

  /**
   * @param {{info: import("./protocol.js").CardInfo, live: import("./protocol.js").CardLive}[]} runs
   */
  function open(runs) {
    close();
    /** @type {HTMLVideoElement[]} */
    const videos = [];
    let syncing = false;
    /** @param {(v: HTMLVideoElement) => void} fn */
    const all = (fn) => {
      if (syncing) return;
      syncing = true;
      try {
        videos.forEach(fn);
      } finally {
        syncing = false;
      }
    };
    const cols = runs.map(({ info, live }) => {
      let player;
      if (live.succeeded) {
        const v = /** @type {HTMLVideoElement} */ (h("video", { controls: true, playsinline: true, muted: true, preload: "auto", testid: "compare-video" }));
        cleanup.push(resolveVideo(media, info.id, live, (url) => setSrc(v, url)));
        cleanup.push(() => v.pause());
        v.addEventListener("play", () => all((o) => o !== v && o.paused && o.play().catch(() => {})));
        v.addEventListener("pause", () => all((o) => o !== v && !o.paused && o.pause()));
        v.addEventListener("seeked", () => all((o) => { if (o !== v && Math.abs(o.currentTime - v.currentTime) > 0.2) o.currentTime = v.currentTime; }));
        videos.push(v);
        player = v;
      } else player = h("div", { class: "sw-placeholder" }, `${live.display_status}: no video`);
      return h("figure", { class: "sw-compare-col" }, player,
        h("figcaption", null, h("div", { class: "sw-prompt sw-open" }, info.prompt || ""),
          h("div", { class: "sw-muted sw-small" }, [info.model, paramsText(info.params)].filter(Boolean).join(" · ")),
          h("code", { class: "sw-id" }, info.id)));
    });
    const playAll = () => {
      all((v) => {
        v.currentTime = 0;
      });
      all((v) => void v.play().catch(() => {})); // one that cannot play must not stop the others
    };
    fill(el,
      h("div", { class: "sw-compare-bar" }, h("strong", null, `Comparing ${runs.length} runs`), h("span", { class: "sw-grow" }),
        h("button", { type: "button", class: "sw-btn sw-primary", testid: "compare-play", onclick: playAll, disabled: !videos.length }, "▶ Play together"),
        h("button", { type: "button", class: "sw-btn", onclick: close }, "Close")),
      h("div", { class: "sw-compare-strip" }, cols));
    show(el, true);
    el.scrollIntoView({ block: "nearest" });
  }

  return { el, open, close };
}
