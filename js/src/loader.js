// @ts-check
/**
 * The tiny `_esm` every widget instance carries (and saves into a notebook). The real bundle
 * lives once per kernel in a shared asset model; this loader fetches it from there, injects its
 * CSS once per page, imports it from a Blob URL once per bundle hash, and hands over.
 */
import { childModel } from "./protocol.js";

const KEY = "__seedance_widgets_bundles__";

/**
 * @param {any} host
 * @param {any} model
 * @returns {Promise<{render: (ctx: any) => any}>}
 */
async function load(host, model) {
  const asset = await childModel(host, model, String(model.get("_asset") || ""));
  const sha = String(asset.get("sha"));
  /** @type {Record<string, Promise<any>>} */
  const cache = /** @type {any} */ (globalThis)[KEY] || ( /** @type {any} */ (globalThis)[KEY] = {});
  if (!cache[sha]) {
    cache[sha] = (async () => {
      if (!document.querySelector(`style[data-seedance="${sha}"]`)) {
        const style = document.createElement("style");
        style.dataset.seedance = sha;
        style.textContent = String(asset.get("css") || "");
        document.head.append(style);
      }
      const url = URL.createObjectURL(new Blob([String(asset.get("esm"))], { type: "text/javascript" }));
      try {
        return (await import(/* webpackIgnore: true */ url)).default;
      } finally {
        URL.revokeObjectURL(url);
      }
    })();
    cache[sha].catch(() => delete cache[sha]);
  }
  return cache[sha];
}

export default {
  /** @param {any} ctx */
  async render(ctx) {
    try {
      const bundle = await load(ctx.host, ctx.model);
      return bundle.render(ctx);
    } catch (e) {
      console.error("seedance_widgets loader:", e);
      ctx.el.textContent = `seedance_widgets: the front end did not load (${e}); run the cell again.`;
    }
  },
};
