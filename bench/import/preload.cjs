/**
 * Preloaded (`node --require`) into each importer's process by bench/import.ts:
 *
 * - With BENCH_IMPORT_ORIGIN set, it sends mixpanel-import's requests to the loopback sink without
 *   touching its code. mixpanel-import creates its own undici `Pool`s for https://api.mixpanel.com,
 *   https://api-eu.mixpanel.com and https://api-in.mixpanel.com when its components/importers.js is
 *   loaded (`const { Pool } = require('undici')`), and has no base-URL option. This wraps Node's
 *   module loader: the first time `undici` is required, its `Pool` export is replaced by a subclass that
 *   substitutes BENCH_IMPORT_ORIGIN for any *.mixpanel.com origin. The request paths (`/import?...`) and
 *   everything else stay as mixpanel-import sends them.
 * - With BENCH_IMPORT_USAGE set to a file path, it writes the process's CPU time and peak RSS there as
 *   JSON when the process exits, so that both tools are measured the same way.
 */
const Module = require("node:module")
const fs = require("node:fs")

const origin = process.env.BENCH_IMPORT_ORIGIN
if (origin) {
  const load = Module._load
  const redirected = new WeakSet()
  Module._load = function (request, parent, isMain) {
    const exports = load.call(this, request, parent, isMain)
    if (request === "undici" && !redirected.has(exports)) {
      redirected.add(exports)
      const Pool = exports.Pool
      exports.Pool = class RedirectedPool extends Pool {
        constructor(url, options) {
          super(/(^|\.)mixpanel\.com$/.test(new URL(String(url)).hostname) ? origin : url, options)
        }
      }
    }
    return exports
  }
}

const usage = process.env.BENCH_IMPORT_USAGE
if (usage) {
  process.on("exit", () => {
    const { maxRSS, systemCPUTime, userCPUTime } = process.resourceUsage()
    fs.writeFileSync(
      usage,
      JSON.stringify({
        userSeconds: userCPUTime / 1e6,
        systemSeconds: systemCPUTime / 1e6,
        peakRssBytes: maxRSS * 1024
      })
    )
  })
}
