/** A refused release or a failed update step: its message is meant for the person running the update. */
export class UpdateError extends Error {
  override name = 'UpdateError'
}
