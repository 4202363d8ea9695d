// @ts-check
/**
 * Is the kernel still there? Every ping (and every submit) carries a number the kernel answers
 * at once with a pong. No answer within a few seconds while the kernel is not busy means it
 * restarted or stopped: this view belongs to a kernel that is gone.
 */

const WAIT_MS = 4000;

/**
 * @param {any} model
 * @param {{onLost: () => void, onBack: () => void, onBusy: (busy: boolean) => void}} cb
 */
export function createWatchdog(model, cb) {
  let n = 0;
  /** @type {Map<number, any>} */
  const waiting = new Map();
  let lost = false;

  function kernelBusy() {
    try {
      const k = model.widget_manager && model.widget_manager.kernel;
      return !!k && k.status === "busy";
    } catch {
      return false;
    }
  }

  /** @param {number} id */
  function arm(id) {
    waiting.set(id, setTimeout(() => check(id), WAIT_MS));
  }

  /** @param {number} id */
  function check(id) {
    if (!waiting.has(id)) return;
    if (kernelBusy()) {
      // A running cell holds messages when comms are not on subshells: wait, and say so.
      cb.onBusy(true);
      waiting.set(id, setTimeout(() => check(id), 2000));
      return;
    }
    waiting.delete(id);
    lost = true;
    cb.onLost();
  }

  return {
    get lost() {
      return lost;
    },
    /** The number to put in a message the kernel will answer. */
    next() {
      n += 1;
      arm(n);
      return n;
    },
    ping() {
      model.send({ type: "ping", n: this.next() });
    },
    /** @param {any} msg */
    pong(msg) {
      const t = waiting.get(msg.n);
      if (t !== undefined) clearTimeout(t);
      waiting.delete(msg.n);
      cb.onBusy(false);
      if (lost) {
        lost = false;
        cb.onBack();
      }
    },
    dispose() {
      for (const t of waiting.values()) clearTimeout(t);
      waiting.clear();
    },
  };
}
