/**
 * A one-off backfill: historical events read from your own store, imported through `/import` with a
 * service account, in requests of up to 2000 events.
 *
 * Credentials come from the environment (MIXPANEL_TOKEN, MIXPANEL_SERVICE_ACCOUNT_USERNAME,
 * MIXPANEL_SERVICE_ACCOUNT_SECRET, MIXPANEL_PROJECT_ID; see docs/configuration.md). Without them, this
 * example starts the embedded Mixpanel with a service account of its own and imports into that.
 */
import { FetchHttpClient } from "@effect/platform"
import { Config, Console, Effect, Layer, Option } from "effect"
import { Consumer, Mixpanel } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

/** Stands in for rows from a database or a CSV export: one order a day for a year. */
const orders = Array.from({ length: 5000 }, (_, i) => ({
  id: `order-${i}`,
  customer: `customer-${i % 400}`,
  total: Math.round((10 + (i % 90)) * 100) / 100,
  placedAt: new Date(Date.UTC(2025, 0, 1) + i * 6 * 3600 * 1000)
}))

const backfill = Mixpanel.importEvents(
  orders.map((order) => ({
    distinctId: order.customer,
    event: "Order Placed",
    time: order.placedAt,
    // A stable $insert_id per row makes a re-run of the backfill safe: Mixpanel keeps one copy.
    properties: { $insert_id: order.id, total: order.total }
  }))
)

const importInto = (token: string, consumer: Consumer.DirectOptions) =>
  backfill.pipe(
    Effect.provide(
      Mixpanel.layer({ token }).pipe(
        Layer.provide(Consumer.layerDirect(consumer)),
        Layer.provide(FetchHttpClient.layer)
      )
    )
  )

const main = Effect.gen(function* () {
  const token = yield* Config.option(Config.string("MIXPANEL_TOKEN"))
  if (Option.isSome(token)) {
    const auth = yield* Config.all({
      username: Config.string("MIXPANEL_SERVICE_ACCOUNT_USERNAME"),
      secret: Config.redacted("MIXPANEL_SERVICE_ACCOUNT_SECRET"),
      projectId: Config.string("MIXPANEL_PROJECT_ID")
    })
    yield* importInto(token.value, { importAuth: Consumer.serviceAccount(auth) })
    return yield* Console.log(`Imported ${orders.length} orders into Mixpanel.`)
  }
  const serviceAccount = { username: "backfill.sa", secret: "local-secret", projectId: 1 }
  const server = yield* MixpanelTestServer.make({ auth: { serviceAccount } })
  yield* importInto("local-token", { baseUrl: server.url, importAuth: Consumer.serviceAccount(serviceAccount) })
  const requests = server.requests()
  yield* Console.log(
    `Imported ${server.received("imports").length} orders in ${requests.length} requests ` +
      `(project_id=${requests[0]?.query.project_id}) into the embedded Mixpanel.`
  )
})

Effect.runPromise(Effect.scoped(main))
