/**
 * `npm run demo` leaves the embedded Mixpanel only when asked to with `--real`: the program deletes a
 * profile and aliases and merges identities, so a `MIXPANEL_TOKEN` that happens to be in the shell must
 * not send it to a real project.
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, type Console, Deferred, Effect, Either, Layer, Redacted } from "effect"
import { chooseTarget, main } from "../demo/main.js"

const token = Redacted.make("a-real-project-token")

describe("npm run demo", () => {
  it("sends to Mixpanel itself only with --real, and a token", () => {
    expect(chooseTarget([], token)).toEqual(Either.right({ _tag: "Embedded", faults: false, ignoredToken: true }))
    expect(chooseTarget(["--faults"], token)).toEqual(
      Either.right({ _tag: "Embedded", faults: true, ignoredToken: true })
    )
    expect(chooseTarget([], undefined, true)).toEqual(
      Either.right({ _tag: "Embedded", faults: true, ignoredToken: false })
    )
    expect(chooseTarget(["--real"], token)).toEqual(Either.right({ _tag: "Mixpanel", token }))
    expect(chooseTarget(["--real"], undefined)).toEqual(
      Either.left("--real sends to your Mixpanel project: set MIXPANEL_TOKEN to its token")
    )
    expect(Either.isLeft(chooseTarget(["--real", "--faults"], token))).toBe(true)
  })

  it.scoped("with MIXPANEL_TOKEN set and no flag, sends every request to the embedded Mixpanel", () =>
    Effect.gen(function* () {
      const hosts: Array<string> = []
      const lines: Array<string> = []
      const elsewhere = yield* Deferred.make<string>()
      // Fetch, holding back every request but to loopback (so a mistake here never reaches a real project)
      const LoopbackOnly = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          client.pipe(
            HttpClient.mapRequestEffect((request) =>
              Effect.gen(function* () {
                const host = new URL(request.url).hostname
                hosts.push(host)
                if (host === "127.0.0.1") return request
                yield* Deferred.succeed(elsewhere, host)
                return yield* Effect.never
              })
            )
          )
        )
      ).pipe(Layer.provide(FetchHttpClient.layer))
      const console = yield* Effect.console
      const recording: Console.Console = {
        ...console,
        log: (...args) => Effect.sync(() => lines.push(args.map(String).join(" ")))
      }

      const demo = main([]).pipe(
        Effect.provide(LoopbackOnly),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["MIXPANEL_TOKEN", "a-real-project-token"]]))),
        Effect.withConsole(recording)
      )
      // A request held back ends the test at once (disconnected: the demo's shutdown is not waited for).
      yield* Effect.raceFirst(
        Effect.disconnect(demo),
        Effect.flatMap(Deferred.await(elsewhere), (host) => Effect.dieMessage(`the demo sent a request to ${host}`))
      )

      expect(lines[0]).toBe("MIXPANEL_TOKEN is set, and ignored: `npm run demo -- --real` sends to that project.")
      expect(lines).toContain("Everything sent was received.")
      expect(hosts.length).toBeGreaterThan(0)
      expect(new Set(hosts)).toEqual(new Set(["127.0.0.1"]))
    })
  )
})
