// Preloaded (NODE_OPTIONS=--require) into every process that scripts/docs.sh starts: docgen runs each
// @example with tsx, and an example must never reach a real Mixpanel. Connections to loopback (the
// embedded MixpanelTestServer) and to local sockets (tsx's own IPC) go through; any other fails at once.
"use strict"
const net = require("node:net")

const connect = net.Socket.prototype.connect
const isLoopback = (host) => host === undefined || host === "localhost" || host === "::1" || /^127\./.test(host)

net.Socket.prototype.connect = function (...args) {
  // Node calls this with an array of normalized arguments, users with (options), (port, host) or (path).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]
  const options =
    typeof first === "object" && first !== null
      ? first
      : typeof first === "string" && Number.isNaN(Number(first))
        ? { path: first }
        : { port: first, host: typeof args[1] === "string" ? args[1] : undefined }
  // As net.Socket does, a truthy `path` is a local socket; anything else is TCP.
  if (!options.path && !isLoopback(options.host)) {
    throw new Error(`docs examples run offline: refused a connection to ${options.host}:${options.port}`)
  }
  return connect.apply(this, args)
}
