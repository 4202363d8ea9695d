// @ts-check
/** TaskWidget view: one task card, updated in place on `change:task`. */
import { createCard, createMedia, isTerminal } from "./card.js";
import { h } from "./dom.js";

/**
 * @param {{model: any, el: HTMLElement, life: import("./dom.js").Life}} ctx
 */
export function renderTask({ model, el, life }) {
  const media = createMedia(model, life);
  const card = createCard({ send: (msg) => model.send(msg), media });
  const root = h("div", { class: "sw-root sw-task" }, card.el);
  el.append(root);
  life.add(() => {
    card.destroy();
    root.remove();
  });

  const sync = () => {
    const t = model.get("task");
    root.hidden = !t;
    if (t) card.update(t);
  };
  life.on(model, "change:task", sync);
  // One timer for elapsed/ETA; idle once the task is over.
  life.every(1000, () => {
    if (card.task && !isTerminal(card.task)) card.tick(Date.now());
  });
  sync();
  return () => life.dispose();
}
