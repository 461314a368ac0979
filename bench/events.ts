/**
 * The events every client sends: the same `n` events, built on the fly and deterministically from their
 * sequence number, so that no client keeps the whole set alive and every client sends the same data.
 *
 * Each event carries `seq` (its number) in its properties: the sink counts distinct `seq`s, so the
 * delivered fraction is exact and duplicates are visible.
 */

/** One event as the bench hands it to a client: who, what, and the properties. */
export interface BenchEvent {
  readonly distinctId: string
  readonly event: string
  readonly properties: BenchProperties
}

/**
 * A realistic mix: strings, numbers, booleans, dates, a nested object with a list, a null. (A type alias,
 * not an interface, so that it is assignable to the clients' index-signature property types.)
 */
export type BenchProperties = {
  readonly seq: number
  readonly plan: string
  readonly path: string
  readonly referrer: string
  readonly user_agent: string
  readonly price: number
  readonly quantity: number
  readonly in_stock: boolean
  readonly first_visit: boolean
  readonly signed_up_at: Date
  readonly viewed_at: Date
  readonly cart: {
    readonly items: number
    readonly total: number
    readonly currency: string
    readonly coupon: string | null
    readonly tags: ReadonlyArray<string>
  }
  readonly experiment: { readonly id: string; readonly variant: string; readonly exposed: boolean }
}

const eventNames = ["Page Viewed", "Product Viewed", "Added To Cart", "Checkout Started", "Order Completed"]
const plans = ["free", "starter", "pro", "enterprise"]
const currencies = ["EUR", "USD", "GBP"]
const tagSets: ReadonlyArray<ReadonlyArray<string>> = [["sale"], ["sale", "summer"], [], ["new", "featured", "gift"]]
const agent =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

/** A fixed instant, so that every run builds byte-identical events. */
const epoch = Date.UTC(2025, 0, 15, 12, 0, 0)

/** The `i`-th event. About 560 bytes as Mixpanel JSON once a client adds its own fields. */
export const makeEvent = (i: number): BenchEvent => ({
  distinctId: `user-${(i * 7919) % 5000}`,
  event: eventNames[i % eventNames.length] ?? "Page Viewed",
  properties: {
    seq: i,
    plan: plans[i % plans.length] ?? "free",
    path: `/products/${i % 997}/details`,
    referrer: "https://www.example.com/search?q=running+shoes&page=2",
    user_agent: agent,
    price: Math.round(((i % 1000) / 10 + 0.99) * 100) / 100,
    quantity: (i % 7) + 1,
    in_stock: i % 3 !== 0,
    first_visit: i % 11 === 0,
    signed_up_at: new Date(epoch - (i % 365) * 86_400_000),
    viewed_at: new Date(epoch + i * 1000),
    cart: {
      items: i % 5,
      total: Math.round((i % 5) * 19.99 * 100) / 100,
      currency: currencies[i % currencies.length] ?? "EUR",
      coupon: i % 4 === 0 ? "SPRING25" : null,
      tags: tagSets[i % tagSets.length] ?? []
    },
    experiment: { id: "checkout-redesign-2025", variant: i % 2 === 0 ? "control" : "treatment", exposed: i % 5 !== 0 }
  }
})
