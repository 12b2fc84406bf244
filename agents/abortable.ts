/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it aborts — whether or
 * not the work behind the promise listens to the signal (a capability, a connector).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err) => (signal.removeEventListener('abort', onAbort), reject(err)),
    )
  })
}
