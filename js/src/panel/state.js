// @ts-check
/**
 * The panel's local copy of the form: edits are written to the kernel as a whole new dict
 * (text after a short debounce, selects at once), and a field the user is still typing in is
 * never overwritten by an older value coming back. It also remembers which fields were touched:
 * errors show only there, or everywhere once Generate was pressed.
 */
import { debounce } from "../dom.js";

/**
 * @param {any} model
 * @param {import("../dom.js").Life} life
 */
export function createFormState(model, life) {
  /** @type {Record<string, any>} */
  let form = { ...(model.get("form") || {}) };
  /** @type {Set<string>} keys edited here and not yet written */
  const pending = new Set();
  /** @type {Set<string>} */
  const touched = new Set();
  const state = { attempted: false };
  const writer = debounce(write, 250);
  life.add(() => writer.cancel());

  function write() {
    writer.cancel();
    pending.clear();
    model.set("form", { ...form });
    model.save_changes();
  }

  return {
    get form() {
      return form;
    },
    pending,
    touched,
    state,
    write,
    /** Send edits still waiting for the debounce (before a submit or an upload). */
    flush() {
      if (pending.size) write();
    },
    /**
     * @param {string} key
     * @param {unknown} value
     * @param {boolean} [typing] debounce the write (text input); other edits go at once
     */
    edit(key, value, typing = false) {
      form = { ...form, [key]: value };
      touched.add(key);
      if (typing) {
        pending.add(key);
        writer.schedule();
      } else write();
    },
    /** The kernel's form, with what the user is still typing on top. */
    incoming() {
      const mine = Object.fromEntries([...pending].map((k) => [k, form[k]]));
      form = { ...(model.get("form") || {}), ...mine };
    },
    /** @param {string} key */
    showsError(key) {
      return state.attempted || touched.has(key) || touched.has(key.split(/[.[]/)[0]);
    },
  };
}

/** @typedef {ReturnType<typeof createFormState>} FormState */
