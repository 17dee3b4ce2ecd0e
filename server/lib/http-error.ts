/** An error that Fastify answers with its own status code and message (it reads `statusCode`). */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly statusCode: number
  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options)
    this.statusCode = statusCode
  }
}
