/**
 * The store's cap as plain arithmetic (`room.ts`), and the reasons read from driver errors (`failure.ts`).
 */
import { describe, expect, it } from "@effect/vitest"
import { reasonOf } from "../../src/internal/consumer/durable/failure.js"
import * as Room from "../../src/internal/consumer/durable/room.js"
import { insertSizes } from "../../src/internal/consumer/durable/statements.js"

const cap: Room.Cap = { capacity: 5, capacityBytes: 100 }

describe("room", () => {
  it("accepts a prefix: the first message that does not fit stops the rest", () => {
    expect(Room.fitting({ messages: 0, bytes: 0 }, [10, 10, 10], cap)).toBe(3)
    expect(Room.fitting({ messages: 3, bytes: 0 }, [10, 10, 10], cap)).toBe(2)
    expect(Room.fitting({ messages: 0, bytes: 80 }, [10, 30, 5], cap)).toBe(1)
    expect(Room.fitting({ messages: 0, bytes: 0 }, [200, 1], cap)).toBe(0)
  })

  it("dropOldest: what to free so that everything fits, never counting a message larger than the cap", () => {
    expect(Room.shortfall({ messages: 4, bytes: 50 }, [10, 10], cap)).toEqual({ messages: 1, bytes: 0 })
    expect(Room.shortfall({ messages: 1, bytes: 90 }, [30], cap)).toEqual({ messages: 0, bytes: 20 })
    expect(Room.shortfall({ messages: 1, bytes: 10 }, [500], cap)).toEqual({ messages: 0, bytes: 0 })
  })

  it("dropOldest: the oldest candidates that free enough, by count and by bytes", () => {
    expect(Room.victims([5, 5, 5], { messages: 2, bytes: 0 })).toBe(2)
    expect(Room.victims([5, 5, 50, 5], { messages: 1, bytes: 12 })).toBe(3)
    expect(Room.victims([5, 5], { messages: 3, bytes: 0 })).toBe(2)
    expect(Room.victims([5], { messages: 0, bytes: 0 })).toBe(0)
  })

  it("inserts in power-of-two chunks, so that a few statement texts serve every batch", () => {
    expect(insertSizes(0)).toEqual([])
    expect(insertSizes(1)).toEqual([1])
    expect(insertSizes(7)).toEqual([4, 2, 1])
    expect(insertSizes(1300)).toEqual([512, 512, 256, 16, 4])
  })
})

describe("failure reasons", () => {
  const sqlError = (cause: unknown) => ({ _tag: "SqlError", message: "Failed to execute statement", cause })
  it.each([
    [sqlError({ code: "SQLITE_FULL", message: "database or disk is full" }), "DiskFull"],
    [sqlError({ code: "SQLITE_READONLY", message: "attempt to write a readonly database" }), "ReadOnly"],
    [sqlError({ code: "SQLITE_NOTADB", message: "file is not a database" }), "Corrupt"],
    [sqlError({ code: "SQLITE_CORRUPT", message: "database disk image is malformed" }), "Corrupt"],
    [sqlError({ code: "SQLITE_BUSY", message: "database is locked" }), "Busy"],
    [sqlError({ code: "SQLITE_ERROR", message: "no such table: effect_mixpanel_outbox" }), "Schema"],
    [sqlError({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5432" }), "Unavailable"],
    [sqlError({ code: "57P01", message: "terminating connection due to administrator command" }), "Unavailable"],
    [sqlError({ code: "53100", message: "could not extend file" }), "DiskFull"],
    [sqlError({ code: "25006", message: "cannot execute INSERT in a read-only transaction" }), "ReadOnly"],
    [sqlError({ code: "40P01", message: "deadlock detected" }), "Busy"],
    [sqlError({ code: "42710", message: 'type "effect_mixpanel_migrations" already exists' }), "Busy"],
    [sqlError(new Error("Connection terminated unexpectedly")), "Unavailable"],
    [sqlError(new Error("something else")), "Unknown"]
  ])("%j is %s", (error, reason) => {
    expect(reasonOf(error)).toBe(reason)
  })
})
