// @ts-check
/**
 * Is the kernel still there? Every ping (and every submit) carries a number the kernel answers
 * at once with a pong. No answer within a few seconds while the kernel is not busy means it
 * restarted or stopped: this view belongs to a kernel that is gone. A front end that does not
 * tell the kernel's status (marimo) answers nothing while a cell runs, so there silence counts
 * as busy for a minute before it counts as lost.
 */

const WAIT_MS = 4000;
const SILENT_MS = 60000;

/**
 * @param {any} model
 * @param {{onLost: () => void, onBack: () => void, onBusy: (busy: boolean) => void}} cb
 */
export function createWatchdog(model, cb) {
  let n = 0;
  /** @type {Map<number, any>} */
  const waiting = new Map();
  /** @type {Map<number, number>} when each unanswered number was sent */
  const sentAt = new Map();
  let lost = false;

  /** @returns {"busy" | "idle" | "unknown"} "unknown": the front end has no kernel status */
  function kernelStatus() {
    try {
      const wm = model.widget_manager;
      if (!wm || !("kernel" in wm)) return "unknown";
      return wm.kernel && wm.kernel.status === "busy" ? "busy" : "idle";
    } catch {
      return "idle";
    }
  }

  /** @param {number} id */
  function arm(id) {
    sentAt.set(id, Date.now());
    waiting.set(id, setTimeout(() => check(id), WAIT_MS));
  }

  /** @param {number} id */
  function check(id) {
    if (!waiting.has(id)) return;
    const status = kernelStatus();
    const silent = Date.now() - (sentAt.get(id) || 0);
    if (status === "busy" || (status === "unknown" && silent < SILENT_MS)) {
      // A running cell holds messages when comms are not on subshells: wait, and say so.
      cb.onBusy(true);
      waiting.set(id, setTimeout(() => check(id), 2000));
      return;
    }
    waiting.delete(id);
    sentAt.delete(id);
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
      sentAt.delete(msg.n);
      cb.onBusy(false);
      if (lost) {
        lost = false;
        cb.onBack();
      }
    },
    dispose() {
      for (const t of waiting.values()) clearTimeout(t);
      waiting.clear();
      sentAt.clear();
    },
  };
}
