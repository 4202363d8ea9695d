// @ts-check
/** Small building blocks of the panel's sections: a labelled field and a guarded value. */
import { h } from "../dom.js";

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
 * Never overwrite what the user is still typing (their edit is newer than the trait).
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @param {boolean} typing
 * @param {string} value
 */
export function setValue(input, typing, value) {
  if (typing) return;
  if (input.value !== value) input.value = value;
}
