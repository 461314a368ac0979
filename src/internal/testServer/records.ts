/**
 * What the test server keeps: the items it accepted on each endpoint (events deduplicated as Mixpanel
 * does), and the items it dropped silently, with the reason.
 */
import type { Endpoint } from "../../Endpoint.js"
import type * as Api from "../../MixpanelTestServer.js"
import { isObject, toMillis } from "./verdict.js"

interface Store {
  readonly items: Array<Api.JsonObject>
  readonly keys: Set<string>
  count: number
  duplicates: number
}

const emptyStore = (): Store => ({ items: [], keys: new Set(), count: 0, duplicates: 0 })

/** The dedup key of an event, or `undefined` when it has no `$insert_id` (Mixpanel does not dedup it). */
const dedupKey = (item: Api.JsonObject): string | undefined => {
  const properties = item.properties
  if (!isObject(properties)) return undefined
  const insertId = properties.$insert_id
  if (typeof insertId !== "string") return undefined
  const time = properties.time
  return JSON.stringify([
    item.event,
    typeof time === "number" ? toMillis(time) : (time ?? null),
    properties.distinct_id ?? null,
    insertId
  ])
}

export interface Records {
  readonly keep: (endpoint: Endpoint, items: ReadonlyArray<Api.JsonObject>) => void
  readonly drop: (items: ReadonlyArray<Api.DroppedItem>) => void
  readonly received: (endpoint: Endpoint) => ReadonlyArray<Api.JsonObject>
  readonly receivedCount: (endpoint: Endpoint) => number
  readonly duplicates: (endpoint: Endpoint) => number
  readonly dropped: (endpoint?: Endpoint) => ReadonlyArray<Api.DroppedItem>
  readonly clear: () => void
}

const emptyStores = (): Record<Endpoint, Store> => ({
  events: emptyStore(),
  people: emptyStore(),
  groups: emptyStore(),
  imports: emptyStore()
})

export const makeRecords = (): Records => {
  let stores = emptyStores()
  let dropped: Array<Api.DroppedItem> = []
  return {
    keep: (endpoint, items) => {
      const store = stores[endpoint]
      const dedup = endpoint === "events" || endpoint === "imports"
      for (const item of items) {
        store.count++
        const key = dedup ? dedupKey(item) : undefined
        if (key !== undefined) {
          if (store.keys.has(key)) {
            store.duplicates++
            continue
          }
          store.keys.add(key)
        }
        store.items.push(item)
      }
    },
    drop: (items) => {
      dropped.push(...items)
    },
    received: (endpoint) => stores[endpoint].items.slice(),
    receivedCount: (endpoint) => stores[endpoint].count,
    duplicates: (endpoint) => stores[endpoint].duplicates,
    dropped: (endpoint) => (endpoint === undefined ? dropped.slice() : dropped.filter((d) => d.endpoint === endpoint)),
    clear: () => {
      stores = emptyStores()
      dropped = []
    }
  }
}
