/**
 * A Schema failure as a path and a short reason that never quotes the value: values hold e-mail addresses
 * and secrets, errors end up in logs, and a quoted 10 MB string makes a 10 MB message.
 */
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as AST from "effect/SchemaAST"
import { distance } from "fastest-levenshtein"

/** Where a value failed, and why, in words that hold none of the value. */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly detail: string
}

/** The message a schema declares for its failures, when it declares one that needs no value. */
const declared = (ast: AST.AST, issue: ParseResult.ParseIssue): string | undefined => {
  const annotation = AST.getMessageAnnotation(ast)
  if (Option.isNone(annotation)) return undefined
  const message = annotation.value(issue)
  if (typeof message === "string") return message
  if (typeof message === "object" && message !== null && "message" in message && typeof message.message === "string") {
    return message.message
  }
  return undefined
}

/** Whether the message `ast` declares is not to be set aside for its parts' own: all but `override: false`. */
const overrides = (ast: AST.AST, issue: ParseResult.ParseIssue): boolean => {
  const annotation = AST.getMessageAnnotation(ast)
  if (Option.isNone(annotation)) return true
  const message = annotation.value(issue)
  return !(typeof message === "object" && message !== null && "override" in message && message.override === false)
}

const expected = (ast: AST.AST): string => {
  const description = AST.getDescriptionAnnotation(ast).pipe(Option.orElse(() => AST.getIdentifierAnnotation(ast)))
  return `expected ${Option.isSome(description) ? description.value : String(ast)}`
}

/**
 * The key of `known` that `key` is most likely a misspelling of: the same but for case or Mixpanel's `$`
 * (`ip` for `$ip`), or else the nearest within two edits (fewer than half of `key`'s characters), the first
 * of equals.
 */
export const suggest = (key: PropertyKey, known: ReadonlyArray<PropertyKey>): string | undefined => {
  if (typeof key !== "string") return undefined
  const names = known.filter((name): name is string => typeof name === "string" && name !== key)
  const lower = key.toLowerCase()
  const sameButCase = names.find((name) => name.toLowerCase() === lower || name.toLowerCase() === `$${lower}`)
  if (sameButCase !== undefined) return sameButCase
  let best: string | undefined
  let fewest = Math.min(2, Math.ceil(key.length / 2) - 1)
  for (const name of names) {
    const edits = distance(key, name)
    if (edits <= fewest && (best === undefined || edits < fewest)) {
      best = name
      fewest = edits
    }
  }
  return best
}

/** `: did you mean <meant>?`, what a message adds when a key was likely misspelt; nothing without one. */
export const didYouMean = (meant: string | undefined): string => (meant === undefined ? "" : `: did you mean ${meant}?`)

/** What a key a struct does not know is, given the key it most likely meant (if any). */
export type Unexpected = (meant: string | undefined) => string

const notAField: Unexpected = (meant) => `is not a field this message can hold${didYouMean(meant)}`

/**
 * The first failure of `issue` (a schema reports the first one it finds), as a path and a reason;
 * `unexpected` says what a key the schema does not know is, given the known key it is nearest to.
 */
export const first = (issue: ParseResult.ParseIssue, unexpected: Unexpected = notAField): Issue => {
  const path: Array<PropertyKey> = []
  let current: ParseResult.ParseIssue = issue
  // The keys of the innermost struct on the way: what an unexpected key was likely meant to be
  let known: ReadonlyArray<PropertyKey> = []
  while (true) {
    const ast: AST.AST | undefined = "ast" in current ? (current.ast as AST.AST) : undefined
    if (ast !== undefined && AST.isTypeLiteral(ast)) known = ast.propertySignatures.map((signature) => signature.name)
    switch (current._tag) {
      case "Pointer":
        if (Array.isArray(current.path)) path.push(...current.path)
        else path.push(current.path as PropertyKey)
        current = current.issue
        continue
      case "Composite": {
        // A message that does not `override` is for a value none of the parts fit (as in Schema's own
        // formatter): a value that fits one part (a union's member by its tag) fails as that part
        const own = overrides(current.ast, current) ? declared(current.ast, current) : undefined
        if (own !== undefined) return { path, detail: own }
        current = Array.isArray(current.issues)
          ? (current.issues[0] as ParseResult.ParseIssue)
          : (current.issues as ParseResult.ParseIssue)
        continue
      }
      case "Refinement":
      case "Transformation": {
        // A filter's message is for a value of its base type that fails it: a value not of that type (a
        // number for a token) fails as the base does (as in Schema's own formatter)
        if (current._tag === "Refinement" && current.kind === "From") {
          current = current.issue
          continue
        }
        const own = declared(current.ast, current)
        if (own !== undefined) return { path, detail: own }
        if (current._tag === "Refinement" && current.kind === "Predicate" && current.issue._tag === "Type") {
          return { path, detail: current.issue.message ?? expected(current.ast) }
        }
        current = current.issue
        continue
      }
      case "Type":
      case "Forbidden":
        return { path, detail: current.message ?? declared(current.ast, current) ?? expected(current.ast) }
      case "Missing":
        return { path, detail: current.message ?? "is missing" }
      case "Unexpected":
        return {
          path,
          detail: unexpected(path.length === 0 ? undefined : suggest(path[path.length - 1] as PropertyKey, known))
        }
    }
  }
}
