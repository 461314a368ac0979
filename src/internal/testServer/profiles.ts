/**
 * Mixpanel's rules for one update on `/engage` and `/groups` (`MIXPANEL_API.md`, "Message shapes"): the
 * client's own `Message.ProfileUpdate` and `Message.GroupUpdate` (exactly one operation, each with values
 * of its kind; `$token`; a string `$distinct_id`; a number `$time`), plus what they cannot say: a group
 * update with `$add` or `$append` is refused (the group schema ignores keys it does not know), an update
 * of more than 1 MB is refused, and a placeholder `$distinct_id` is dropped, not refused.
 */
import * as Message from "../../Message.js"
import type * as Api from "../../MixpanelTestServer.js"
import {
  accept,
  checkWith,
  drop,
  hook,
  invalid,
  isObject,
  isPlaceholder,
  jsonBytes,
  type Rules,
  refuse,
  type Verdict
} from "./verdict.js"

const profileUpdate = checkWith(Message.ProfileUpdate)
const groupUpdate = checkWith(Message.GroupUpdate)

/** Operations of a profile update that a group update cannot hold. */
const profileOnly = Message.profileOperationNames.filter(
  (name) => !(Message.groupOperationNames as ReadonlyArray<string>).includes(name)
)

/** Stands in for a placeholder `$distinct_id` while the schema checks the rest of the update. */
const standIn = "placeholder"

const tokenRule = (item: Api.JsonObject, rules: Rules): Verdict | undefined =>
  rules.token !== undefined && item.$token !== rules.token ? invalid("$token", "not the project's token") : undefined

const sizeRule = (item: Api.JsonObject): Verdict | undefined => {
  const bytes = jsonBytes(item)
  return bytes > Message.maxMessageBytes
    ? refuse("", `the update is ${bytes} bytes of JSON; an update takes at most ${Message.maxMessageBytes}`)
    : undefined
}

/** What Mixpanel makes of one user profile update sent to `/engage`. */
export const checkProfile = (item: unknown, rules: Rules): Verdict => {
  if (!isObject(item)) return refuse("", "a profile update must be a JSON object")
  const id = item.$distinct_id
  const placeholder = typeof id === "string" && isPlaceholder(id)
  const refused =
    sizeRule(item) ??
    profileUpdate(placeholder ? { ...item, $distinct_id: standIn } : item, "") ??
    tokenRule(item, rules) ??
    hook(rules, "people", item)
  if (refused !== undefined) return refused
  return placeholder
    ? drop("PlaceholderId", "$distinct_id", `"${id}" is a placeholder id that Mixpanel blocks`)
    : accept
}

/** What Mixpanel makes of one group profile update sent to `/groups`. */
export const checkGroup = (item: unknown, rules: Rules): Verdict => {
  if (!isObject(item)) return refuse("", "a group update must be a JSON object")
  const misplaced = profileOnly.find((name) => item[name] !== undefined)
  return (
    sizeRule(item) ??
    (misplaced === undefined ? undefined : invalid(misplaced, "not an operation of group profiles")) ??
    groupUpdate(item, "") ??
    tokenRule(item, rules) ??
    hook(rules, "groups", item) ??
    accept
  )
}
