/**
 * One client run in its own process, forked by the runner: it loads only the client it is asked for,
 * runs it under the harness, reports the result over IPC, and exits, whatever timers or sockets the
 * client left behind.
 */
import { variants } from "./clients/index.js"
import { measure } from "./harness.js"
import type { ClientReply, ClientStart } from "./protocol.js"

const reply = (message: ClientReply): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) {
      process.stdout.write(`${JSON.stringify(message)}\n`)
      resolve()
    } else process.send(message, undefined, {}, () => resolve())
  })

process.once("message", async ({ spec }: ClientStart) => {
  try {
    const variant = variants.find((candidate) => candidate.id === spec.client)
    if (variant === undefined) throw new Error(`no client named ${spec.client}`)
    const client = await variant.load()
    const result = await measure(client, spec)
    await reply({ type: "result", result })
  } catch (error) {
    await reply({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  }
  process.exit(0)
})

void reply({ type: "ready" })
