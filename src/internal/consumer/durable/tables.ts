/**
 * The names of the outbox's tables: one prefix for all of them (so that they sit apart from the
 * application's own tables in a shared database) and, on PostgreSQL, an optional schema.
 */

/** The prefix of every table and index of the outbox, unless the options name another. */
export const defaultPrefix = "effect_mixpanel_"

/** The qualified name of each table, and the bare prefix (index names are never schema-qualified). */
export interface Tables {
  readonly prefix: string
  readonly schema: string | undefined
  /** Messages waiting for delivery, or claimed by a relay. */
  readonly outbox: string
  /** One row per message claimed at least once: who holds it until when, and how often it was claimed. */
  readonly leases: string
  /** Messages that will never be delivered, with why. */
  readonly deadLetters: string
  /** One row per ordered endpoint (`people`, `groups`): the lock that serializes their claims. */
  readonly locks: string
  /** Facts about this outbox, e.g. the random id that tells its database apart from another. */
  readonly meta: string
  /** `@effect/sql`'s `Migrator` table: the schema version of the outbox. */
  readonly migrations: string
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Why `name` cannot be a prefix or schema, or `undefined` when it can. */
export const invalidName = (name: string): string | undefined =>
  identifier.test(name) && name.length <= 40
    ? undefined
    : "must be letters, digits and underscores (at most 40), not starting with a digit"

/** The tables for `prefix` (letters, digits, `_`) in `schema` (PostgreSQL), validated by `invalidName` first. */
export const make = (options: {
  readonly prefix?: string | undefined
  readonly schema?: string | undefined
}): Tables => {
  const prefix = options.prefix ?? defaultPrefix
  const qualify = (name: string) =>
    options.schema === undefined ? `${prefix}${name}` : `${options.schema}.${prefix}${name}`
  return {
    prefix,
    schema: options.schema,
    outbox: qualify("outbox"),
    deadLetters: qualify("dead_letters"),
    leases: qualify("leases"),
    locks: qualify("locks"),
    meta: qualify("meta"),
    migrations: qualify("migrations")
  }
}
