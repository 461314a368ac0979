import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"
import { Consumer, Mixpanel, RemoteFlags, TestConsumer } from "effect-mixpanel"
import { MixpanelTestServer } from "effect-mixpanel/testing"

const env = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))
const read = <A>(config: Effect.Effect<A, unknown>, entries: Record<string, string>) =>
  Effect.withConfigProvider(config, env(entries))

describe("Configuration from the environment", () => {
  it.effect("reads nothing it was not given", () =>
    Effect.gen(function* () {
      const options = yield* read(Consumer.directConfig, {})
      expect(Object.values(options).every((value) => value === undefined)).toBe(true)
    })
  )

  it.effect("reads a service account, preferred over the API secret and the token", () =>
    Effect.gen(function* () {
      const options = yield* read(Consumer.directConfig, {
        MIXPANEL_TOKEN: "t",
        MIXPANEL_API_SECRET: "api",
        MIXPANEL_SERVICE_ACCOUNT_USERNAME: "sa",
        MIXPANEL_SERVICE_ACCOUNT_SECRET: "shh",
        MIXPANEL_PROJECT_ID: "77",
        MIXPANEL_REGION: "EU",
        MIXPANEL_REQUEST_TIMEOUT: "3 seconds"
      })
      expect(options.importAuth).toMatchObject({ _tag: "ServiceAccount", username: "sa", projectId: "77" })
      expect(Redacted.isRedacted((options.importAuth as { secret: unknown }).secret)).toBe(true)
      expect(String((options.importAuth as { secret: unknown }).secret)).not.toContain("shh")
      expect(options.region).toBe("EU")
      expect(Duration.toMillis(Duration.decode(options.requestTimeout ?? 0))).toBe(3000)
    })
  )

  it.effect("falls back to the API secret, then to the project token", () =>
    Effect.gen(function* () {
      expect(
        (yield* read(Consumer.directConfig, { MIXPANEL_TOKEN: "t", MIXPANEL_API_SECRET: "a" })).importAuth
      ).toMatchObject({
        _tag: "ApiSecret"
      })
      expect((yield* read(Consumer.directConfig, { MIXPANEL_TOKEN: "t" })).importAuth).toMatchObject({
        _tag: "ProjectToken"
      })
    })
  )

  it.effect("a secret variable set to nothing is a ConfigError naming it, not a credential that fails later", () =>
    Effect.gen(function* () {
      for (const name of ["MIXPANEL_TOKEN", "MIXPANEL_API_SECRET"]) {
        const error = yield* Effect.flip(read(Consumer.directConfig, { [name]: "" }))
        expect(String(error)).toContain(`${name}: "is set, but to nothing"`)
      }
    })
  )

  it.effect("a credential its rule refuses is a ConfigError naming its variable, never quoting it", () =>
    Effect.gen(function* () {
      const account = {
        MIXPANEL_SERVICE_ACCOUNT_USERNAME: "sa",
        MIXPANEL_SERVICE_ACCOUNT_SECRET: "s",
        MIXPANEL_PROJECT_ID: "7"
      }
      for (const [name, value, detail] of [
        ["MIXPANEL_SERVICE_ACCOUNT_SECRET", "top secret", "must be printable ASCII"],
        ["MIXPANEL_SERVICE_ACCOUNT_USERNAME", "top secret", "must be printable ASCII"],
        ["MIXPANEL_PROJECT_ID", "abc", "must be a project id: digits only"]
      ] as const) {
        const error = String(yield* Effect.flip(read(Consumer.directConfig, { ...account, [name]: value })))
        expect(error).toContain(`${name}: "${detail}`)
        expect(error).not.toContain(value)
      }
    })
  )

  it.effect("a secret bound for plain HTTP to another host is refused, naming the variable that gave the address", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        read(Consumer.bufferedConfig, { MIXPANEL_BASE_URL: "http://10.0.0.1", MIXPANEL_API_SECRET: "s" })
      )
      expect(String(error)).toContain(
        'MIXPANEL_BASE_URL: "refusing to send an /import secret over plain HTTP to 10.0.0.1; use https or a loopback host"'
      )
      expect(String(error)).not.toContain("baseUrl")
      // the flags layers' service account likewise
      const flags = yield* Effect.flip(
        Effect.scoped(
          Layer.build(
            RemoteFlags.layerConfig().pipe(
              Layer.provide(Mixpanel.layer({ token: "t" })),
              Layer.provide(TestConsumer.layer),
              Layer.provide(FetchHttpClient.layer)
            )
          )
        ).pipe(
          Effect.withConfigProvider(
            env({
              MIXPANEL_TOKEN: "t",
              MIXPANEL_BASE_URL: "http://10.0.0.1",
              MIXPANEL_SERVICE_ACCOUNT_USERNAME: "sa",
              MIXPANEL_SERVICE_ACCOUNT_SECRET: "s",
              MIXPANEL_PROJECT_ID: "1"
            })
          )
        )
      )
      expect(String(flags)).toContain(
        "MIXPANEL_BASE_URL: \"refusing to send a service account's secret over plain HTTP"
      )
      // over https, or to this machine, it goes
      yield* read(Consumer.bufferedConfig, { MIXPANEL_BASE_URL: "https://10.0.0.1", MIXPANEL_API_SECRET: "s" })
      yield* read(Consumer.bufferedConfig, { MIXPANEL_BASE_URL: "http://127.0.0.1:4000", MIXPANEL_API_SECRET: "s" })
    })
  )

  it.effect("a service account without its secret is a ConfigError naming the missing variable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        read(Consumer.directConfig, { MIXPANEL_SERVICE_ACCOUNT_USERNAME: "sa", MIXPANEL_PROJECT_ID: "1" })
      )
      expect(String(error)).toContain("MIXPANEL_SERVICE_ACCOUNT_SECRET")
      // and its secret without its username, where the API secret or the token would have been used instead
      const withoutName = yield* Effect.flip(
        read(Consumer.directConfig, { MIXPANEL_SERVICE_ACCOUNT_SECRET: "shh", MIXPANEL_API_SECRET: "api" })
      )
      expect(String(withoutName)).toContain(
        "MIXPANEL_SERVICE_ACCOUNT_SECRET is set, so MIXPANEL_SERVICE_ACCOUNT_USERNAME is needed too"
      )
      expect(String(withoutName)).not.toContain("shh")
    })
  )

  it.effect("reads the buffered consumer's knobs, and refuses bad values with the variable's name", () =>
    Effect.gen(function* () {
      const options = yield* read(Consumer.bufferedConfig, {
        MIXPANEL_FLUSH_INTERVAL: "2 seconds",
        MIXPANEL_CAPACITY: "5000",
        MIXPANEL_OVERFLOW: "wait",
        MIXPANEL_MAX_CONCURRENT_REQUESTS: "8",
        MIXPANEL_SHUTDOWN_TIMEOUT: "30 seconds",
        MIXPANEL_GZIP: "true"
      })
      expect(options).toMatchObject({ capacity: 5000, overflow: "wait", maxConcurrentRequests: 8, gzip: true })
      expect(Duration.toMillis(Duration.decode(options.flushInterval ?? 0))).toBe(2000)
      const badOverflow = yield* Effect.flip(read(Consumer.bufferedConfig, { MIXPANEL_OVERFLOW: "sometimes" }))
      expect(String(badOverflow)).toContain("MIXPANEL_OVERFLOW")
      // one of a few values: the values allowed, not a line per value that did not match
      expect(String(badOverflow)).toContain('must be one of "wait", "dropNewest", "dropOldest"')
      expect(String(badOverflow)).not.toContain("Expected")
      // a value of another case: the one meant
      const lowerCase = yield* Effect.flip(read(Consumer.bufferedConfig, { MIXPANEL_REGION: "eu" }))
      expect(String(lowerCase)).toContain('MIXPANEL_REGION: "must be one of "US", "EU", "IN": did you mean "EU"?"')
      const badCapacity = yield* Effect.flip(read(Consumer.bufferedConfig, { MIXPANEL_CAPACITY: "0" }))
      expect(String(badCapacity)).toContain('MIXPANEL_CAPACITY: "must be an integer from 1 to 10000000"')
      // the rule's words, not Schema's tree of the failure (nor the value)
      const notANumber = yield* Effect.flip(read(Consumer.bufferedConfig, { MIXPANEL_MAX_BATCH_SIZE: "abc" }))
      expect(String(notANumber)).toContain('MIXPANEL_MAX_BATCH_SIZE: "must be an integer from 1 to 2000"')
      expect(String(notANumber)).not.toContain("└─")
      expect(String(notANumber)).not.toContain("abc")
    })
  )

  it.effect("a duration variable given as a bare number is milliseconds, as a number in code is", () =>
    Effect.gen(function* () {
      const buffered = yield* read(Consumer.bufferedConfig, {
        MIXPANEL_FLUSH_INTERVAL: "5000",
        MIXPANEL_REQUEST_TIMEOUT: "2500.5",
        MIXPANEL_MAX_RETRY_TIME: "0"
      })
      expect(Duration.toMillis(Duration.decode(buffered.flushInterval ?? -1))).toBe(5000)
      expect(Duration.toMillis(Duration.decode(buffered.requestTimeout ?? -1))).toBe(2500.5)
      expect(Duration.toMillis(Duration.decode(buffered.maxRetryTime ?? -1))).toBe(0)
      const durable = yield* read(Consumer.durableConfig, { MIXPANEL_POLL_INTERVAL: "250" })
      expect(Duration.toMillis(Duration.decode(durable.pollInterval ?? -1))).toBe(250)
      // the layer takes it as it takes the same number in code
      const built = yield* Effect.scoped(
        Layer.build(Consumer.layerBufferedConfig().pipe(Layer.provide(FetchHttpClient.layer)))
      ).pipe(Effect.withConfigProvider(env({ MIXPANEL_FLUSH_INTERVAL: "5000" })), Effect.either)
      expect(built._tag).toBe("Right")
      // 0 is a duration, refused by the range, in the range's words
      const zero = yield* Effect.flip(
        Effect.scoped(Layer.build(Consumer.layerBufferedConfig().pipe(Layer.provide(FetchHttpClient.layer)))).pipe(
          Effect.withConfigProvider(env({ MIXPANEL_FLUSH_INTERVAL: "0" }))
        )
      )
      expect(String(zero)).toContain('MIXPANEL_FLUSH_INTERVAL: "must be from 1ms to 1d"')
      // what is refused is not what the message offers
      for (const text of ["-5", "5 secs", "abc"]) {
        const refused = yield* Effect.flip(read(Consumer.bufferedConfig, { MIXPANEL_FLUSH_INTERVAL: text }))
        expect(String(refused)).toContain(
          'MIXPANEL_FLUSH_INTERVAL: "expected a duration of 0 or more, such as "5 seconds" or a number of milliseconds"'
        )
      }
    })
  )

  it.effect("a token missing from the environment is named, with what is missing, and nothing redacted away", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.scoped(
          Layer.build(
            Mixpanel.layerConfig().pipe(Layer.provide(Consumer.layerDirect()), Layer.provide(FetchHttpClient.layer))
          )
        ).pipe(Effect.withConfigProvider(env({})))
      )
      expect(String(error)).toContain('MIXPANEL_TOKEN: "Expected MIXPANEL_TOKEN to exist')
      expect(String(error)).not.toContain("<redacted>")
    })
  )

  it.scoped("a whole application configured from the environment delivers an import", () =>
    Effect.gen(function* () {
      const serviceAccount = { username: "sa", secret: "shh", projectId: 9 }
      const server = yield* MixpanelTestServer.make({ auth: { serviceAccount } })
      const live = Mixpanel.layerConfig().pipe(
        Layer.provideMerge(Consumer.layerDirectConfig()),
        Layer.provide(FetchHttpClient.layer)
      )
      yield* Mixpanel.importEvent("u1", "Old", Date.UTC(2020, 0, 1)).pipe(
        Effect.provide(live),
        Effect.withConfigProvider(
          env({
            MIXPANEL_TOKEN: "tok",
            MIXPANEL_BASE_URL: server.url,
            MIXPANEL_SERVICE_ACCOUNT_USERNAME: "sa",
            MIXPANEL_SERVICE_ACCOUNT_SECRET: "shh",
            MIXPANEL_PROJECT_ID: "9"
          })
        )
      )
      expect(server.received("imports")).toMatchObject([{ event: "Old", properties: { token: "tok" } }])
    })
  )
})
