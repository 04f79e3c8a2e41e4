/** Injection token of the resolved `session.cache` options. */
export const SESSION_CACHE_SETTINGS = Symbol('ARRAF_AUTH:SESSION_CACHE_SETTINGS');
/** Injection token of the {@link SessionCache} (inert while `session.cache` is off). */
export const SESSION_CACHE = Symbol('ARRAF_AUTH:SESSION_CACHE');
/** Injection token of the {@link InvalidationChannel} between instances. */
export const SESSION_INVALIDATION_CHANNEL = Symbol('ARRAF_AUTH:SESSION_INVALIDATION_CHANNEL');
