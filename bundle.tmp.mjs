import { build } from "esbuild"
const t = Date.now()
const r = await build({ entryPoints: ["src/bin.ts"], bundle: true, platform: "node", format: "esm", target: "node20", minify: process.env.MIN === "1", outfile: "/tmp/imp/bin.bundle.mjs", metafile: true, legalComments: "none",
  })
console.log("ms", Date.now() - t)
const out = r.metafile.outputs["/tmp/imp/bin.bundle.mjs"] ?? Object.values(r.metafile.outputs)[0]
console.log("bytes", out.bytes)
const by = {}
for (const [k, v] of Object.entries(out.inputs)) { const m = k.match(/node_modules\/((@[^/]+\/)?[^/]+)/); const key = m ? m[1] : "src"; by[key] = (by[key] ?? 0) + v.bytesInOutput }
console.log(Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 15))
