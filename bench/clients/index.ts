/**
 * Every client the bench runs, in the order of the table. Each loads its module only when a client
 * process asks for it, so that a process holds one SDK and nothing else.
 */
import type { Client } from "../harness.js"

export interface Variant {
  /** Stable id, used on the command line (`--clients`) and in the JSON. */
  readonly id: string
  /** The row label of the table. */
  readonly label: string
  /** How it is configured, in a few words. */
  readonly setup: string
  /**
   * `main`: the row the goals are checked for (effect-mixpanel as a plain-JavaScript caller calls it);
   * `ours`: another way of calling effect-mixpanel; `floor`: the hand-written sender every ratio divides by;
   * `bound`: the floor with what no Effect library called that way can avoid, a bound on the goals.
   */
  readonly role: "main" | "ours" | "peer" | "floor" | "bound"
  /**
   * The durability whose goal of issue 11 (events per second against the main row's, the buffered
   * consumer's) this row is checked against: a durable consumer's row, or a bound on that goal. Such rows
   * are not held to issue 13's goals.
   */
  readonly durability?: "commit" | "async"
  /**
   * `full`: N events (`--n`); `small`: the smaller N of a client that makes one request per event
   * (`--small-n`); `reduced`: a client too slow to run N events 3 times within the bench's 5 minutes
   * (`--reduced-n`).
   */
  readonly size: "full" | "small" | "reduced"
  /** Run in the fault scenario unless `--fault-clients` says otherwise. */
  readonly faults: boolean
  readonly load: () => Promise<Client>
}

export const variants: ReadonlyArray<Variant> = [
  {
    id: "floor",
    label: "floor (hand-written)",
    setup: "one JSON.stringify per 2000 events, keep-alive agent, 4 requests in flight; no validation, no retry",
    role: "floor",
    size: "full",
    faults: true,
    load: async () => (await import("./floor.js")).floor
  },
  {
    id: "floor-runfork",
    label: "floor, a fiber per call (runFork)",
    setup:
      "the floor, each call as runtime.runFork(Effect.sync(() => track(event))) on a ManagedRuntime of no services",
    role: "bound",
    size: "full",
    faults: false,
    load: async () => (await import("./floorFibers.js")).floorInFibers
  },
  {
    id: "effect-undici",
    label: "effect-mixpanel (undici, runFork)",
    setup: "runtime.runFork(Mixpanel.track(...)) per event; layerBuffered defaults, NodeHttpClient.layerUndici",
    role: "main",
    size: "full",
    faults: true,
    load: async () => (await import("./effectMixpanel.js")).undici("runFork")
  },
  {
    id: "effect-undici-unsafe",
    label: "effect-mixpanel (undici, Mixpanel.unsafe)",
    setup:
      "mixpanel.track(...) per event on the service's synchronous face (Mixpanel.unsafe), no fiber per call; layerBuffered defaults, NodeHttpClient.layerUndici",
    role: "ours",
    size: "full",
    faults: true,
    load: async () => (await import("./effectMixpanel.js")).undici("unsafe")
  },
  {
    id: "effect-undici-fiber",
    label: "effect-mixpanel (undici, in a fiber)",
    setup: "yield* mixpanel.track(...) per event in one Effect; layerBuffered defaults, NodeHttpClient.layerUndici",
    role: "ours",
    size: "full",
    faults: false,
    load: async () => (await import("./effectMixpanel.js")).undici("fiber")
  },
  {
    id: "effect-fetch",
    label: "effect-mixpanel (fetch, runFork)",
    setup: "runtime.runFork(Mixpanel.track(...)) per event; layerBuffered defaults, FetchHttpClient.layer",
    role: "ours",
    size: "full",
    faults: true,
    load: async () => (await import("./effectMixpanel.js")).fetch("runFork")
  },
  {
    id: "effect-undici-commit-bound",
    label: "effect-mixpanel buffered, each call waiting for a free commit (runFork)",
    setup:
      "the main row, each call's fiber then waiting, as a durable commit's caller does, for a commit that costs nothing: resumed at the next turn of the event loop",
    role: "bound",
    durability: "commit",
    size: "full",
    faults: false,
    load: async () => (await import("./effectMixpanel.js")).undici("runForkWaiting")
  },
  {
    id: "effect-durable-commit",
    label: "effect-mixpanel durable (SQLite, commit)",
    setup: 'runFork(Mixpanel.track(...)) per event; layerDurable over DurableStore.layerSqlite, durability "commit"',
    role: "ours",
    durability: "commit",
    size: "full",
    faults: false,
    load: async () => (await import("./effectMixpanel.js")).durable("commit")
  },
  {
    id: "effect-durable-async",
    label: "effect-mixpanel durable (SQLite, async)",
    setup: 'runFork(Mixpanel.track(...)) per event; layerDurable over DurableStore.layerSqlite, durability "async"',
    role: "ours",
    durability: "async",
    size: "full",
    faults: false,
    load: async () => (await import("./effectMixpanel.js")).durable("async")
  },
  {
    id: "mixpanel-batch",
    label: "mixpanel track_batch",
    setup: "track_batch per 1000 events (50 per request, all at once)",
    role: "peer",
    size: "full",
    faults: true,
    load: async () => (await import("./mixpanel.js")).trackBatch
  },
  {
    id: "mixpanel-track",
    label: "mixpanel track",
    setup: "track per event (one GET each)",
    role: "peer",
    size: "small",
    faults: false,
    load: async () => (await import("./mixpanel.js")).track
  },
  {
    id: "posthog-tuned",
    label: "posthog-node (tuned)",
    setup: "flushAt/maxBatchSize 1000, maxQueueSize 100k",
    role: "peer",
    size: "full",
    faults: true,
    load: async () => (await import("./posthog.js")).tuned
  },
  {
    id: "posthog-defaults",
    label: "posthog-node (defaults)",
    setup: "defaults: flushAt 20, maxBatchSize 100, maxQueueSize 10k",
    role: "peer",
    size: "full",
    faults: false,
    load: async () => (await import("./posthog.js")).defaults
  },
  {
    id: "segment-tuned",
    label: "segment (tuned)",
    setup: "flushAt 1000 (batches capped at 480 KB)",
    role: "peer",
    size: "full",
    faults: true,
    load: async () => (await import("./segment.js")).tuned
  },
  {
    id: "segment-defaults",
    label: "segment (defaults)",
    setup: "defaults: flushAt 15, no limit on requests in flight",
    role: "peer",
    size: "reduced",
    faults: false,
    load: async () => (await import("./segment.js")).defaults
  }
]
