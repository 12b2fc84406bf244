// The embedded relay's public surface.
export { startRelay, relayInformation, SUPPORTED_NIPS, type StartRelayOptions, type RunningRelay } from './server.js'
export { DEFAULT_RELAY_CONFIG, resolveRelayConfig, silentLog, type RelayConfig, type RelayLog, type TokenBucketRate } from './config.js'
export {
  defaultPolicies,
  rateLimitPolicies,
  runPolicies,
  isProtectedEvent,
  mayRead,
  type PolicyContext,
  type PolicyDecision,
  type WritePolicy,
} from './policy.js'
export { runStrfryPlugin } from './strfry-plugin.js'
