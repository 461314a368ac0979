/**
 * The four ingestion endpoints of Mixpanel, by the names the seed library gave them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The endpoint names as a Schema. `events` is `/track`, `people` is `/engage`, `groups` is `/groups`,
 * `imports` is `/import`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Endpoint } from "effect-mixpanel"
 *
 * const endpoint = Schema.decodeUnknownSync(Endpoint.Endpoint)("people") // "people"
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoint = Schema.Literal("events", "people", "groups", "imports")

/**
 * One of the four ingestion endpoints: `"events" | "people" | "groups" | "imports"`.
 *
 * @example
 * ```ts
 * import { Endpoint } from "effect-mixpanel"
 *
 * const describe = (endpoint: Endpoint.Endpoint): string => `${endpoint} (${Endpoint.path[endpoint]})`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

/**
 * Every endpoint, in a stable order.
 *
 * @example
 * ```ts
 * import { Endpoint } from "effect-mixpanel"
 *
 * console.log(Endpoint.all) // [ 'events', 'people', 'groups', 'imports' ]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const all: ReadonlyArray<Endpoint> = Endpoint.literals

/**
 * The URL path of each endpoint.
 *
 * @example
 * ```ts
 * import { Endpoint } from "effect-mixpanel"
 *
 * console.log(Endpoint.path.people) // "/engage"
 * ```
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
