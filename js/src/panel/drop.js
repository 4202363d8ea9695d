// @ts-check
/** Drag and drop: URLs from a drag (text/uri-list or URL-looking text) and image files. */
import { randomU32 } from "../dom.js";

/**
 * URLs carried by a drag: text/uri-list (skipping # comments), else URL-looking plain text.
 * @param {DataTransfer} dt
 */
function droppedUrls(dt) {
  const list = dt.getData("text/uri-list");
  if (list) return list.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  return dt.getData("text/plain").split(/\s+/).filter((w) => /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(w));
}

/** @param {DragEvent} e */
function acceptDrag(e) {
  const types = Array.from(e.dataTransfer?.types || []);
  if (!types.some((t) => t === "Files" || t === "text/uri-list" || t === "text/plain")) return false;
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  return true;
}

/**
 * @param {HTMLElement} target
 * @param {(urls: string[]) => void} onUrls
 * @param {(file: File) => void} onFile
 */
export function makeDropTarget(target, onUrls, onFile) {
  const off = () => target.classList.remove("sw-drag");
  target.addEventListener("dragover", (e) => acceptDrag(e) && target.classList.add("sw-drag"));
  target.addEventListener("dragleave", off);
  target.addEventListener("drop", (e) => {
    off();
    if (!e.dataTransfer || !acceptDrag(e)) return;
    e.stopPropagation();
    const files = Array.from(e.dataTransfer.files || []);
    if (files.length) files.forEach(onFile);
    else {
      const urls = droppedUrls(e.dataTransfer);
      if (urls.length) onUrls(urls);
    }
  });
}

/** @param {string} url */
export function guessKind(url) {
  const path = url.split(/[?#]/)[0].toLowerCase();
  if (/\.(mp4|mov|webm)$/.test(path)) return "video";
  if (/\.(mp3|wav|m4a)$/.test(path)) return "audio";
  return "image";
}

/** @param {string} url */
export function nameOf(url) {
  const seg = url.split(/[?#]/)[0].split("/").filter(Boolean).pop() || url;
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

export function newKey() {
  return randomU32().toString(16).padStart(8, "0");
}
