/**
 * The durable store as a service, without importing any SQL package: the main entry (where
 * `Consumer.layerDurable` lives) needs the tag, and must not pull `@effect/sql` into every program.
 * The implementation is in `sqlStore.ts`; the public face is `DurableStore.ts`.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { Overflow } from "../../../Consumer.js"
import type { Endpoint } from "../../../Endpoint.js"
import type { DeliveryFailure, DeliveryOutcome, DeliveryReason } from "../../../MixpanelError.js"
import type { Appended, Store, Stored } from "../buffered/store.js"
import type { Failure } from "./failure.js"
import type { Tables } from "./tables.js"

/** When `append` returns: once the messages are committed, or at once with a bounded loss window. */
export type Durability = "commit" | "async"

/** Which dead letters an operation applies to (`DurableStore.DeadLetterFilter`, documented there). */
export interface DeadLetterFilter {
  readonly ids?: ReadonlyArray<number> | undefined
  readonly endpoint?: Endpoint | undefined
  readonly outcome?: DeliveryOutcome | undefined
  readonly reason?: DeliveryReason | undefined
  /** Failed at or after this time. */
  readonly failedAfter?: Date | undefined
  /** Failed before this time. */
  readonly failedBefore?: Date | undefined
  /** Only dead letters with a greater id: the cursor of the next page. */
  readonly afterId?: number | undefined
  /** At most this many, the oldest first. `list`: default 100. `replay`, `remove`: default all. */
  readonly limit?: number | undefined
}

/** The store's settings, resolved from its options. */
export interface Settings extends Resolved {
  readonly dialect: "sqlite" | "pg"
}

/** The options of a store, checked and with their defaults: all it needs but its dialect. */
export interface Resolved {
  readonly durability: Durability
  /** "async": the longest a message waits for its commit, in milliseconds. */
  readonly asyncInterval: number
  /** "async": the most messages appended and not yet committed; beyond it `append` waits for its commit. */
  readonly asyncMessages: number
  readonly capacity: number
  readonly capacityBytes: number
  readonly overflow: Overflow
  /** How long a claim holds its messages (renewed every third of it while the store runs), in milliseconds. */
  readonly leaseDuration: number
  /** This store's name on the leases it takes. */
  readonly holder: string
  readonly tables: Tables
  /** Where the store is, for log lines: a file name, or the dialect. */
  readonly label: string
  /** The bytes a message takes in a request body (`Stored.bytes`). */
  readonly measure: (endpoint: Endpoint, json: string) => number
}

/**
 * What `append` did in a durable store: `Appended`, plus the messages accepted but not yet committed
 * ("async" durability), whose outcome comes later through `onLate`.
 */
export interface DurableAppended extends Appended {
  readonly pending: ReadonlyArray<string>
}

/**
 * The later outcome of an "async" `append`: committed (stored, refused, evicted), or lost with the
 * failure; `epoch` is the number the caller gave `append`.
 */
export type Late =
  | {
      readonly _tag: "Committed"
      readonly endpoint: Endpoint
      readonly epoch: number | undefined
      readonly appended: Appended
    }
  | {
      readonly _tag: "Failed"
      readonly endpoint: Endpoint
      readonly epoch: number | undefined
      readonly messages: ReadonlyArray<string>
      readonly failure: Failure<"append">
    }

/** A dead letter as read from the store. */
export interface DeadLetterRow {
  readonly id: number
  readonly endpoint: Endpoint
  readonly json: string
  readonly bytes: number
  readonly createdAt: number
  readonly failedAt: number
  readonly claims: number
  readonly outcome: DeliveryOutcome
  readonly reason: DeliveryReason
  readonly detail: string
  readonly status: number | undefined
  readonly field: string | undefined
}

/** How full the store is. */
export interface Stats {
  readonly messages: number
  readonly bytes: number
  /** Messages claimed by a relay under a live lease. */
  readonly claimed: number
  readonly deadLetters: number
}

/** The durable store: the engine's `Store`, and what only a durable store has. */
export interface Service extends Store {
  /** `epoch` is handed back with the outcome of an "async" append (`Late`); the rows do not keep it. */
  readonly append: (
    endpoint: Endpoint,
    messages: ReadonlyArray<string>,
    epoch?: number
  ) => Effect.Effect<DurableAppended, Failure<"append">>
  /**
   * `append` without an effect where it needs none: "async" durability, outside any transaction (as
   * `context`, the calling fiber's, tells; none: no fiber, so no transaction), the store open. Returns
   * what `append` would, or the effect to run (beyond the window the caller waits for its commit), or
   * `undefined` where only `append` can.
   */
  readonly appendAtOnce: (
    endpoint: Endpoint,
    messages: ReadonlyArray<string>,
    epoch: number,
    context: Context.Context<never> | undefined
  ) => DurableAppended | Effect.Effect<DurableAppended, Failure<"append">> | undefined
  /**
   * Claims, and writes the batch into one request body of `allocate`'s (by default a buffer of its own):
   * its messages are then held as their bytes there, as the memory store's are.
   */
  readonly claim: (
    endpoint: Endpoint,
    limits: { readonly maxItems: number; readonly maxBytes: number },
    allocate?: (size: number) => Uint8Array
  ) => Effect.Effect<ReadonlyArray<Stored>, Failure<"claim">>
  readonly ack: (messages: ReadonlyArray<Stored>) => Effect.Effect<void, Failure<"ack">>
  readonly deadLetter: (
    failures: ReadonlyArray<{ readonly message: Stored; readonly failure: DeliveryFailure }>
  ) => Effect.Effect<void, Failure<"deadLetter">>
  readonly release: (messages: ReadonlyArray<Stored>) => Effect.Effect<void, Failure<"release">>
  readonly settings: Settings
  /**
   * Whether the calling fiber is inside a transaction on this store's database (where `append` writes
   * through the caller's transaction, and where nothing may wait for the relay).
   */
  readonly inTransaction: Effect.Effect<boolean>
  /**
   * Replaces the handler of "async" outcomes (by default they are logged); it gets those of one
   * transaction at once, in the order of their appends.
   */
  readonly onLate: (handler: (outcomes: ReadonlyArray<Late>) => Effect.Effect<void>) => Effect.Effect<void>
  readonly deadLetters: {
    readonly list: (filter: DeadLetterFilter) => Effect.Effect<ReadonlyArray<DeadLetterRow>, Failure<"deadLetters">>
    /** Moves dead letters back to the outbox (as new messages, at its end); returns how many. */
    readonly replay: (filter: DeadLetterFilter) => Effect.Effect<number, Failure<"deadLetters">>
    /** Deletes dead letters for good; returns how many. */
    readonly remove: (filter: DeadLetterFilter) => Effect.Effect<number, Failure<"deadLetters">>
  }
  readonly stats: Effect.Effect<Stats, Failure<"stats">>
  /** The id of the oldest message still in the outbox, whoever appended it: a flush is done past it. */
  readonly oldest: Effect.Effect<number | undefined, Failure<"stats">>
  /** Transactions the group committer has run so far (for tests and the benchmark). */
  readonly commits: () => number
  /** Commits what "async" appends left waiting without waiting out `asyncInterval` (what a flush asks). */
  readonly commitNow: () => void
}

/** The tag of the durable store. */
export class DurableStore extends Context.Tag("effect-mixpanel/DurableStore")<DurableStore, Service>() {}
