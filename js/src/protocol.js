// @ts-check
/**
 * The contract with the kernel, mirroring `seedance_widgets/widgets/_protocol.py` (a test
 * checks the two lists of message types agree). The kernel decides every fact shown here:
 * terminal states, the display status, errors, prices and why Generate is off.
 */

/**
 * @typedef {{key: string, kind: "image"|"video"|"audio", url: string, name: string}} Ref
 * @typedef {{model: string, operation: string, prompt: string, resolution: string,
 *   duration: number, aspect_ratio: string, output_audio: boolean, seed: number|null,
 *   seed_locked: boolean, return_last_frame: boolean, image_url: string, start_image: string,
 *   end_image: string, video_url: string, task_id: string, references: Ref[]}} FormState
 * @typedef {{label: string, usd: number|null, tokens: number, known: boolean,
 *   assumptions: string[]}} PriceState
 * @typedef {{enabled: boolean, reason: string, label: string}} GenerateState
 * @typedef {{cap_usd: number|null, spent_usd: number}} BudgetState
 * @typedef {{text: string, kind: "info"|"warn"|"error"}} NoticeState
 * @typedef {{id: string, label: string, duration: number|null}} SourceOption
 * @typedef {{asset_id: string, uri: string, name: string, asset_type: string,
 *   thumb: string|null, created_ms: number|null}} AssetItem
 * @typedef {{status: "idle"|"loading"|"ready"|"error", items: AssetItem[], has_more: boolean,
 *   error: string, empty_hint: string}} AssetsState
 * @typedef {{url: string, status: string, asset_id: string, message: string,
 *   terminal: boolean}} RegisterState
 * @typedef {{configured: boolean, where: string, help: string}} MediaState
 * @typedef {{name: string, kind: "video"|"audio", size: number,
 *   status: "pending"|"uploading"|"done"|"failed", sent: number, total: number, url: string,
 *   message: string}} UploadState
 * @typedef {{id: string, model: string, operation: string, prompt: string,
 *   params: Record<string, any>, parent_id: string|null,
 *   parent_action: string|null, diff: string[], estimate_label: string,
 *   created_ms: number|null}} CardInfo
 * @typedef {{status: string, display_status: string, terminal: boolean, succeeded: boolean,
 *   progress: number|null, eta_s: number|null, eta_at_ms: number|null,
 *   finished_ms: number|null, error: string|null, cost_label: string, charged: boolean,
 *   billing_id: string,
 *   video_url: string, last_frame_url: string, video_src: "url"|"kernel", can_cancel: boolean,
 *   cancel_message: string, saved_path: string|null, actions: string[], starred: boolean,
 *   note: string, history: boolean}} CardLive
 * @typedef {{total: number, shown: number, has_more: boolean, history: boolean,
 *   problem: string|null, models: string[]}} GalleryStatus
 * @typedef {{id: string, python: string, curl: string, json: string}} CodeMsg
 * @typedef {{type: string, [key: string]: any}} Msg
 * @typedef {(msg: Msg, buffers?: ArrayBuffer[]) => void} Send
 */

/** Message type -> the keys it carries, from the page to the kernel. */
export const TO_KERNEL = {
  submit: ["n"], ping: ["n"], upload: ["name", "mime", "field"],
  cancel: ["id"], save: ["id"], need_video: ["id"], need_frame: ["id"],
  code: ["id"], action: ["action", "id"], star: ["id", "starred"],
  note: ["id", "note"], query: ["search", "status", "model", "starred"], more: [],
  assets_refresh: [], assets_more: [], asset_insert: ["asset_id", "name", "field"],
  register: ["key", "url", "name"], media_file: ["name", "mime", "field"],
  media_upload: ["key"],
};

/** Message type -> the keys it carries, from the kernel to the page. */
export const TO_PAGE = {
  pong: ["n"], video: ["id", "mime"], frame: ["id", "mime"],
  code: ["id", "python", "curl", "json"], focus: ["field"],
};

export const ACTIONS = ["extend", "use_last_frame", "rerun"];

/**
 * Listen to kernel messages: each handler gets the messages of its type; a type no view of
 * this widget handles is logged (never dropped silently).
 * @param {any} model
 * @param {import("./dom.js").Life} life
 * @param {Record<string, (msg: Msg, buffers: any[]) => void>} handlers
 */
export function onMessages(model, life, handlers) {
  life.on(model, "msg:custom", (/** @type {any} */ msg, /** @type {any[]} */ buffers) => {
    const type = msg && typeof msg.type === "string" ? msg.type : "";
    const fn = handlers[type];
    if (fn) fn(msg, buffers || []);
    else if (!(type in TO_PAGE)) console.warn("seedance_widgets: unknown message from the kernel", msg);
  });
}

/**
 * A child model named by an `anywidget:<id>` reference (anywidget 0.11's host.getModel, or the
 * widget manager of older front ends).
 * @param {any} host
 * @param {any} model
 * @param {string} ref
 * @returns {Promise<any>}
 */
export async function childModel(host, model, ref) {
  if (host && typeof host.getModel === "function") return host.getModel(ref);
  return model.widget_manager.get_model(String(ref).replace(/^anywidget:/, ""));
}
