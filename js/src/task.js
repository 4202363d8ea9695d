// @ts-check
/** TaskWidget view: one card, bound to the task's card model. */
import { createCard } from "./card.js";
import { createMedia, createCodeCache } from "./media.js";
import { h } from "./dom.js";
import { onMessages, childModel } from "./protocol.js";

/**
 * @param {{model: any, el: HTMLElement, host: any, life: import("./dom.js").Life}} ctx
 */
export function renderTask({ model, el, host, life }) {
  const media = createMedia(model, life);
  const code = createCodeCache(model);
  const card = createCard({ send: (msg) => model.send(msg), media, code, rootTestid: "task-card" });
  const root = h("div", { class: "sw-root sw-task" }, card.el);
  el.append(root);
  life.add(() => {
    card.destroy();
    root.remove();
  });
  onMessages(model, life, { video: media.receive, frame: media.receive, code: code.receive });
  let seq = 0;
  const sync = async () => {
    const ref = model.get("card");
    const n = ++seq;
    if (!ref) return;
    const child = await childModel(host, model, ref);
    if (n === seq) card.bind(child);
  };
  life.on(model, "change:card", sync);
  life.every(1000, () => card.tick(Date.now())); // elapsed ticks in the page, kernel busy or not
  void sync();
  return () => life.dispose();
}
