// @ts-check
/** Entry of the front end: picks the view named by the model's `_view` trait. */
import { lifecycle, showError } from "./dom.js";
import { renderPanel } from "./panel/index.js";
import { renderTask } from "./task.js";
import { renderGallery } from "./gallery.js";

/**
 * @typedef {{model: any, el: HTMLElement, host: any, life: import("./dom.js").Life}} ViewContext
 * @type {Record<string, (ctx: ViewContext) => (void | (() => void))>}
 */
const VIEWS = { panel: renderPanel, task: renderTask, gallery: renderGallery };

/** @param {{model: any, el: HTMLElement, host?: any}} ctx */
function render({ model, el, host }) {
  // The lifecycle is owned here so that a view throwing halfway still gets cleaned up.
  const life = lifecycle(el);
  /** @type {void | (() => void)} */
  let cleanup;
  try {
    const view = VIEWS[model.get("_view")];
    if (!view) throw new Error(`unknown view ${JSON.stringify(model.get("_view"))}`);
    cleanup = view({ model, el, host, life });
  } catch (e) {
    showError(el, e);
  }
  return () => {
    if (cleanup) cleanup();
    life.dispose(); // idempotent: covers a view that threw before returning its cleanup
  };
}

export default { render };
