// @ts-check
/** Small building blocks of the panel's sections: a labelled field and a stable <select>. */
import { h, fill } from "../dom.js";

/**
 * @typedef {{wrap: HTMLElement, input: HTMLElement, errs: HTMLElement}} Control
 * @typedef {{id: string, resolutions?: string[], durations?: number[], aspect_ratios?: string[],
 *   operations?: string[], prompt_max_characters?: number, references?: Record<string, number>}} ModelInfo
 */

/**
 * @param {string} label
 * @param {HTMLElement} input
 * @param {string} [cls]
 * @returns {Control}
 */
export function field(label, input, cls = "") {
  const errs = h("div", { class: "sw-errs" });
  const wrap = h("label", { class: `sw-field ${cls}` }, h("span", { class: "sw-label" }, label), input, errs);
  return { wrap, input, errs };
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
 * Never overwrite what the user is still typing (their edit is newer than the trait).
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @param {boolean} typing
 * @param {string} value
 */
export function setValue(input, typing, value) {
  if (typing) return;
  if (input.value !== value) input.value = value;
}
