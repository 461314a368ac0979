/**
 * A Schema failure as a path and a short reason that never quotes the value: values hold e-mail addresses
 * and secrets, errors end up in logs, and a quoted 10 MB string makes a 10 MB message.
 */
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as AST from "effect/SchemaAST"

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
 * The first failure of `issue` (a schema reports the first one it finds), as a path and a reason;
 * `unexpected` says what a key the schema does not know is.
 */
export const first = (issue: ParseResult.ParseIssue, unexpected = "is not a field this message can hold"): Issue => {
  const path: Array<PropertyKey> = []
  let current: ParseResult.ParseIssue = issue
  while (true) {
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
        return { path, detail: unexpected }
    }
  }
}
