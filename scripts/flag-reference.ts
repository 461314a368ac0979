/**
 * The official `mixpanel` npm package (a dev dependency) as the reference for feature flags, loaded for
 * offline use: its local flags provider (fed definitions directly, through the `Map` its own fetch fills,
 * polling off), its hash, and the `json-logic-js` instance it registers Mixpanel's custom operators on.
 * Used by `scripts/generate-flag-cases.ts` and by `test/flags/conformance.test.ts`.
 */
import { createRequire } from "node:module"

export interface ReferenceVariant {
  readonly variant_key?: string | null
  readonly variant_value: unknown
  readonly variant_source?: string
  readonly fallback_reason?: { readonly kind: string; readonly message: string | null }
  readonly is_qa_tester?: boolean
}

export interface ReferenceProvider {
  flagDefinitions: Map<string, unknown>
  getVariant(flagKey: string, fallback: { variant_value: unknown }, context: unknown, report: boolean): ReferenceVariant
  _isRuntimeEvaluationSatisfied(rollout: unknown, context: unknown): unknown
}

type Tracker = (event: string, properties: Record<string, unknown>, callback: (error?: Error) => void) => void

const require = createRequire(import.meta.url)
const localFlagsPath = require.resolve("mixpanel/lib/flags/local_flags.js")
const fromMixpanel = createRequire(localFlagsPath)
const LocalFeatureFlagsProvider = fromMixpanel(localFlagsPath) as new (
  token: string,
  config: object,
  tracker: Tracker,
  logger: object
) => ReferenceProvider

/** The reference's hash. */
export const utils = fromMixpanel("./utils.js") as { normalizedHash: (key: string, salt: string) => number }
/** The instance the provider evaluates rules with, with `semver_compare` and `datetime_compare` registered. */
export const jsonLogic = fromMixpanel("json-logic-js") as { apply: (rule: unknown, data: unknown) => unknown }
const mixpanelVersion = (require("mixpanel/package.json") as { version: string }).version
const jsonLogicVersion = (fromMixpanel("json-logic-js/package.json") as { version: string }).version

/** Which package and version the answers come from. */
export const reference = `mixpanel@${mixpanelVersion} (lib/flags/local_flags.js, json-logic-js@${jsonLogicVersion})`

const silent = { debug() {}, info() {}, warn() {}, error() {} }

/** A local flags provider of the reference, and the exposure events it tracked (empty it at will). */
export const makeProvider = () => {
  const tracked: Array<{ readonly event: string; readonly properties: Record<string, unknown> }> = []
  const provider = new LocalFeatureFlagsProvider(
    "token",
    { enable_polling: false },
    (event, properties, callback) => {
      tracked.push({ event, properties })
      callback()
    },
    silent
  )
  return { provider, tracked }
}

const reasonCode: Record<string, string> = {
  NO_ROLLOUT_MATCH: "-",
  MISSING_CONTEXT_KEY: "?",
  FLAG_NOT_FOUND: "~"
}

/** `key` served locally, `key!` served to a test user, `-`/`?`/`~` for a fallback: the cases' notation. */
export const token = (variant: ReferenceVariant): string => {
  if (variant.variant_source !== "local") {
    const code = reasonCode[variant.fallback_reason?.kind ?? ""]
    if (code === undefined) throw new Error(`unexpected fallback ${JSON.stringify(variant)}`)
    return code
  }
  return `${variant.variant_key}${variant.is_qa_tester === true ? "!" : ""}`
}
