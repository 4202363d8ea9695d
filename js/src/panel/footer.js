// @ts-check
/**
 * The panel's footer: the price (shown whenever the fields that decide it are valid),
 * Generate with its label and the kernel's reason when it is off (`generate-reason`), the
 * budget, the notice line and the lost-kernel warning (`kernel-lost`).
 */
import { h, setText, show, fmtUsd } from "../dom.js";

/**
 * @param {{onGenerate: () => void, restoreHint: () => string}} ctx
 */
export function createFooter({ onGenerate, restoreHint }) {
  const generate = h("button", { type: "button", class: "sw-btn sw-primary sw-generate", testid: "generate", onclick: onGenerate });
  const price = h("span", { class: "sw-price", testid: "price" });
  const reason = h("div", { class: "sw-reason", testid: "generate-reason", role: "status" });
  const budget = h("span", { class: "sw-muted sw-small", testid: "budget" });
  const notice = h("div", { class: "sw-notice", testid: "notice", role: "status" });
  const lost = h("div", { class: "sw-lost", testid: "kernel-lost", role: "alert", hidden: true });
  const busyNote = h("div", { class: "sw-muted sw-small", testid: "kernel-busy", hidden: true }, "The kernel is busy running a cell; your click is handled when it finishes.");
  const el = h("div", { class: "sw-footer" },
    h("div", { class: "sw-row sw-footer-row" }, generate, h("div", { class: "sw-price-box" }, price, budget)),
    reason, busyNote, lost, notice);

  /**
   * @param {{price: import("../protocol.js").PriceState, generate: import("../protocol.js").GenerateState,
   *   budget: import("../protocol.js").BudgetState, notice: import("../protocol.js").NoticeState,
   *   busy: boolean, locked: boolean, lost: boolean}} s
   */
  function sync(s) {
    const p = s.price || /** @type {any} */ ({});
    const g = s.generate || /** @type {any} */ ({ enabled: false, reason: "", label: "Generate" });
    setText(price, p.label || "");
    price.title = (p.assumptions || []).join("\n");
    price.classList.toggle("sw-muted", !p.known);
    const why = s.lost ? "kernel lost: run the cell again" : g.reason;
    const on = !s.lost && !s.busy && !s.locked && g.enabled;
    // aria-disabled, not disabled: a press still reaches us and reveals every field's error.
    generate.setAttribute("aria-disabled", String(!on));
    generate.classList.toggle("sw-off", !on);
    setText(generate, s.busy || s.locked ? "Submitting…" : g.label || "Generate");
    generate.title = on ? "Generate (Ctrl/Cmd+Enter in the prompt)" : why;
    setText(reason, on || s.busy || s.locked ? "" : why);
    show(reason, !on && !s.busy && !s.locked && !!why);
    const b = s.budget || /** @type {any} */ ({});
    const cap = typeof b.cap_usd === "number";
    setText(budget, cap ? `Budget: ${fmtUsd(b.spent_usd || 0)} of ${fmtUsd(/** @type {number} */ (b.cap_usd))} used` : "");
    show(budget, cap);
    const n = s.notice || /** @type {any} */ ({ text: "", kind: "info" });
    setText(notice, n.text || "");
    notice.className = `sw-notice sw-notice-${n.kind || "info"}`;
    show(notice, !!n.text);
    setText(lost, `The kernel restarted or stopped: run this cell again. ${restoreHint()}`);
    show(lost, s.lost);
  }

  return { el, sync, generate, showBusy: (/** @type {boolean} */ b) => show(busyNote, b) };
}
