// @ts-check
/** Entry of the front end: picks the view named by the model's `_view` trait. */

/** @type {Record<string, (ctx: {model: any, el: HTMLElement}) => (void | (() => void))>} */
const VIEWS = {};

/** @param {{model: any, el: HTMLElement}} ctx */
function render(ctx) {
  const view = VIEWS[ctx.model.get("_view")];
  if (!view) {
    ctx.el.textContent = `seedance_widgets: unknown view ${ctx.model.get("_view")}`;
    return;
  }
  return view(ctx);
}

export default { render };
