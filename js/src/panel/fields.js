// @ts-check
/**
 * The panel's settings: model, operation, prompt (with its counter), resolution, duration,
 * aspect ratio, seed (lock or randomise; -1 lets the service choose), audio, last frame.
 * Switching models sends the choice as it is: the kernel moves the other settings to the
 * nearest values the model allows and says so.
 */
import { h, setText, setOptions, randomU32 } from "../dom.js";
import { field, setValue } from "./ui.js";

const OP_LABELS = /** @type {Record<string, string>} */ ({
  "text-to-video": "Text → video",
  "image-to-video": "Image → video",
  "start-end-to-video": "Start + end frames → video",
  "reference-to-video": "References → video",
  "video-to-video": "Video → video (edit)",
  "video-extension": "Extend a video",
});
const MAX_SEED = 4294967295;

/**
 * @param {{fs: import("./state.js").FormState, onSubmitKey: () => void,
 *   modelInfo: () => import("./ui.js").ModelInfo}} ctx
 */
export function createFields({ fs, onSubmitKey, modelInfo }) {
  const modelSel = h("select", { testid: "model", onchange: () => fs.edit("model", modelSel.value) });
  const opSel = h("select", { testid: "operation", onchange: () => fs.edit("operation", opSel.value) });
  const prompt = h("textarea", {
    testid: "prompt", rows: 4, placeholder: "Describe the video… (Ctrl/Cmd+Enter to generate)",
    oninput: () => {
      fs.edit("prompt", prompt.value, true);
      counter.update();
    },
    onkeydown: (/** @type {KeyboardEvent} */ e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        e.stopPropagation(); // JupyterLab would otherwise run the cell
        onSubmitKey();
      }
    },
  });
  const counterEl = h("span", { class: "sw-counter", testid: "prompt-counter", "aria-live": "polite" });
  const counter = {
    update() {
      const max = modelInfo().prompt_max_characters || 0;
      const n = Array.from(prompt.value).length; // code points, like Python's len()
      setText(counterEl, max ? `${n} / ${max}` : String(n));
      counterEl.classList.toggle("sw-over", !!max && n > max);
    },
  };
  const resSel = h("select", { testid: "resolution", onchange: () => fs.edit("resolution", resSel.value) });
  const durSel = h("select", { testid: "duration", onchange: () => fs.edit("duration", parseInt(durSel.value, 10)) });
  const arSel = h("select", { testid: "aspect-ratio", onchange: () => fs.edit("aspect_ratio", arSel.value) });
  const audio = h("input", { type: "checkbox", testid: "audio", onchange: () => fs.edit("output_audio", audio.checked) });
  const lastFrame = h("input", { type: "checkbox", testid: "last-frame-toggle", onchange: () => fs.edit("return_last_frame", lastFrame.checked) });
  const seed = h("input", {
    type: "number", step: 1, min: -1, max: MAX_SEED, testid: "seed", "aria-label": "Seed",
    oninput: () => {
      const n = parseInt(seed.value, 10);
      fs.edit("seed", Number.isFinite(n) ? n : null, true);
    },
  });
  const lockBox = h("input", {
    type: "checkbox", testid: "seed-lock",
    onchange: () => {
      if (lockBox.checked && fs.form.seed == null) fs.edit("seed", randomU32());
      fs.edit("seed_locked", lockBox.checked);
    },
  });
  const lock = h("label", { class: "sw-lock" }, lockBox, "Lock");
  const dice = h("button", {
    type: "button", class: "sw-btn sw-small-btn", testid: "seed-random", title: "Draw a new random seed and lock it", "aria-label": "Randomise seed",
    onclick: () => {
      fs.edit("seed", randomU32());
      fs.edit("seed_locked", true);
    },
  }, "↻ New");
  const seedBox = h("div", { class: "sw-seedbox" }, seed, lock, dice);

  const c = {
    model: field("Model", modelSel),
    operation: field("Operation", opSel),
    prompt: field("Prompt", prompt, "sw-wide"),
    resolution: field("Resolution", resSel),
    duration: field("Duration", durSel),
    aspect_ratio: field("Aspect ratio", arSel),
    seed: field("Seed", seedBox, "sw-seed"),
    output_audio: field("Audio", audio, "sw-toggle"),
    return_last_frame: field("Return last frame", lastFrame, "sw-toggle"),
  };
  c.prompt.wrap.insertBefore(counterEl, c.prompt.errs);
  c.seed.input = seed;

  /** @param {Record<string, any>} cat */
  function sync(cat) {
    const f = fs.form;
    const m = modelInfo();
    setOptions(modelSel, (cat.models || []).map((/** @type {any} */ x) => [x.id, x.id]), f.model);
    setOptions(opSel, (m.operations || Object.keys(cat.inputs || {})).map((o) => [o, OP_LABELS[o] || o]), f.operation);
    setOptions(resSel, (m.resolutions || []).map((r) => [r, r]), f.resolution);
    setOptions(durSel, (m.durations || []).map((d) => [String(d), d === -1 ? "auto" : `${d} s`]), f.duration);
    setOptions(arSel, (m.aspect_ratios || []).map((a) => [a, a]), f.aspect_ratio);
    setValue(prompt, fs.pending.has("prompt"), f.prompt || "");
    const locked = !!f.seed_locked;
    setValue(seed, fs.pending.has("seed"), locked && f.seed != null ? String(f.seed) : "");
    seed.disabled = !locked;
    seed.placeholder = locked ? "-1 = service picks" : "random each run";
    lockBox.checked = locked;
    lock.title = locked ? "Locked: every run uses this seed" : "Not locked: the service picks a random seed each run";
    audio.checked = !!f.output_audio;
    lastFrame.checked = !!f.return_last_frame;
    counter.update();
  }

  return { controls: c, sync, prompt };
}
