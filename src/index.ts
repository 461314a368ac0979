/**
 * @since 0.1.0
 */
export * as Consumer from "./Consumer.js"

/**
 * @since 0.1.0
 */
export * as Endpoint from "./Endpoint.js"

/**
 * @since 0.1.0
 */
export * as FeatureFlags from "./FeatureFlags.js"

/**
 * @since 0.1.0
 */
export * as LocalFlags from "./LocalFlags.js"

/**
 * @since 0.1.0
 */
export * as Message from "./Message.js"

/**
 * @since 0.1.0
 */
export * as Mixpanel from "./Mixpanel.js"

/**
 * @since 0.1.0
 */
export * as MixpanelError from "./MixpanelError.js"

/**
 * @since 0.1.0
 */
export * as RemoteFlags from "./RemoteFlags.js"

/**
 * @since 0.1.0
 */
export * as TestConsumer from "./TestConsumer.js"
