/**
 * The sink's own process, forked by the runner: starts the sink, says on which port, and answers the
 * runner's `reset` and `stats` over IPC. It exits when the runner goes away.
 */
import type { SinkCommand, SinkReply } from "./protocol.js"
import { startSink } from "./sink.js"

const send = (reply: SinkReply) => process.send?.(reply)

const sink = await startSink(Number(process.env.BENCH_SINK_PORT ?? 0))

process.on("message", (command: SinkCommand) => {
  switch (command.type) {
    case "reset":
      sink.reset(command.expected, command.faults)
      send({ type: "done", id: command.id, stats: sink.stats() })
      return
    case "stats":
      send({ type: "done", id: command.id, stats: sink.stats() })
      return
  }
})

process.on("disconnect", () => {
  void sink.close().finally(() => process.exit(0))
})

send({ type: "listening", port: sink.port })
