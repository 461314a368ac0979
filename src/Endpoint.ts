/**
 * The four ingestion endpoints of Mixpanel, by the names the seed library gave them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `events` is `/track`, `people` is `/engage`, `groups` is `/groups`, `imports` is `/import`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoint = Schema.Literal("events", "people", "groups", "imports")

/**
 * @since 0.1.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

/**
 * Every endpoint, in a stable order.
 *
 * @since 0.1.0
 * @category models
 */
export const all: ReadonlyArray<Endpoint> = Endpoint.literals

/**
 * The URL path of each endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export const path: { readonly [E in Endpoint]: string } = {
  events: "/track",
  people: "/engage",
  groups: "/groups",
  imports: "/import"
}
