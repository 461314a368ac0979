/** Log lines captured with their annotations, for tests that read what a user's logs would show. */
import { Cause, HashMap, Layer, List, Logger, LogLevel } from "effect"

export interface Line {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
  /** When it was logged, by the fiber's clock (the test's clock under `TestClock`), in milliseconds. */
  readonly at: number
  /** The cause logged with it, as a user's logger prints it; `""` for none. */
  readonly cause: string
}

/** Every log line, with its annotations, in a list a test can read. */
export const capture = () => {
  const lines: Array<Line> = []
  const logger = Logger.make<unknown, void>(({ annotations, cause, date, logLevel, message }) => {
    const text = List.isList(message) ? List.toArray(message).map(String).join(" ") : String(message)
    lines.push({
      level: logLevel.label,
      message: Array.isArray(message) ? message.map(String).join(" ") : text,
      annotations: Object.fromEntries(HashMap.toEntries(annotations)),
      at: date.getTime(),
      cause: Cause.isEmpty(cause) ? "" : Cause.pretty(cause)
    })
  })
  return {
    lines,
    layer: Logger.replace(Logger.defaultLogger, logger).pipe(Layer.merge(Logger.minimumLogLevel(LogLevel.Debug)))
  }
}

/** How many messages the warning lines account for, by their reason. */
export const accounted = (lines: ReadonlyArray<Line>, reason: string): number =>
  lines
    .filter((line) => line.level === "WARN" && line.annotations["mixpanel.reason"] === reason)
    .reduce((n, line) => n + Number(line.annotations["mixpanel.messages"] ?? 0), 0)
