/** The user documentation: README.md and the guides of docs/ (not docs/api/, generated from the JSDoc). */
import { readdirSync } from "node:fs"

export const documents: ReadonlyArray<string> = [
  "README.md",
  ...readdirSync(new URL("../docs", import.meta.url))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`)
]
