// Bundles src/index.js and src/style.css into ../seedance_widgets/static, the wheel artifact
// that the widgets' _esm/_css point at.
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const options = {
  entryPoints: [{ in: "src/index.js", out: "widget" }, { in: "src/style.css", out: "widget" }],
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
