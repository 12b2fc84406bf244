/** Every rejection in this codec is a Bolt12Error whose message names the rule that failed. */
export class Bolt12Error extends Error {
  override name = 'Bolt12Error'
}
