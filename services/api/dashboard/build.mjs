// Bundles src/ into the API package (services/api/api/static/dashboard/), where the API
// serves it at /dashboard/. Every asset comes from this directory and package-lock.json.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

const out = "../api/static/dashboard";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: "es2022",
  outdir: out,
  loader: { ".css": "css" },
  logLevel: "warning",
});
cpSync("static/index.html", `${out}/index.html`);
