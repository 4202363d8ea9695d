// Bundles the front end into ../seedance_widgets/static, the wheel artifact the widgets read:
// widget.js + widget.css (the bundle, stored once per kernel in a shared asset model) and
// loader.js (the tiny `_esm` each widget instance carries); marimo.css (theme values appended to
// widget.css where each widget carries the bundle: marimo).
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const options = {
  entryPoints: [
    { in: "src/index.js", out: "widget" },
    { in: "src/style.css", out: "widget" },
    { in: "src/loader.js", out: "loader" },
    { in: "src/marimo.css", out: "marimo" },
  ],
  outdir: "../seedance_widgets/static",
  bundle: true,
  format: "esm",
  minify: !watch,
  target: ["es2020"],
  logLevel: "info",
};
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
