/** Application code under test: it knows nothing of how (or whether) messages are delivered. */
import { Effect } from "effect"
import { Mixpanel } from "effect-mixpanel"

export const signUp = (user: { readonly id: string; readonly email: string; readonly plan: "free" | "pro" }) =>
  Effect.gen(function* () {
    yield* Mixpanel.track(user.id, "Signed Up", { plan: user.plan })
    yield* Mixpanel.peopleSet(user.id, { $email: user.email, plan: user.plan })
    if (user.plan === "pro") yield* Mixpanel.peopleTrackCharge(user.id, 29)
  })
