// The owner's routes for the Pinning Service API's access tokens: make one (its secret is shown in
// that answer only), list them, revoke one. Each changes who may pin on the box, so each is the signed-in
// owner's, with the CSRF token, like every state-changing route; on the data directory's socket
// (token-socket.ts), whose file mode is the owner check, they take no guards.
import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import type { PinningToken, PinningTokens } from './tokens.ts'
import { tokenSchema } from './schemas.ts'

export const PINNING_TOKENS_PATH = '/api/pinning/tokens'

export interface TokenRouteOptions {
  tokens: PinningTokens
  /** The hooks that let through who may list the tokens (`read`) and make or revoke one (`write`); none only on the socket. */
  guards: { read: onRequestHookHandler[]; write: onRequestHookHandler[] }
}

export async function pinningTokenRoutes(app: FastifyInstance, opts: TokenRouteOptions): Promise<void> {
  const { tokens, guards } = opts
  app.get(
    PINNING_TOKENS_PATH,
    {
      onRequest: guards.read,
      schema: { response: { 200: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: tokenSchema } } } } }
    },
    async (): Promise<{ tokens: PinningToken[] }> => ({ tokens: await tokens.list() })
  )
  app.post<{ Body: { name: string } }>(
    PINNING_TOKENS_PATH,
    {
      onRequest: guards.write,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } }
        },
        response: {
          201: {
            ...tokenSchema,
            required: [...tokenSchema.required, 'secret'],
            properties: { ...tokenSchema.properties, secret: { type: 'string' } }
          }
        }
      }
    },
    async (request, reply) => {
      const made = await tokens.create(request.body.name)
      // the secret is in this answer and nowhere else: no cache keeps it, and the log names only the token's id
      request.log.info({ tokenId: made.id, name: made.name }, 'pinning token made')
      return await reply.code(201).header('cache-control', 'no-store').send(made)
    }
  )
  app.delete<{ Params: { id: string } }>(
    `${PINNING_TOKENS_PATH}/:id`,
    {
      onRequest: guards.write,
      schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } }
    },
    async (request, reply) => {
      await tokens.revoke(request.params.id)
      request.log.info({ tokenId: request.params.id }, 'pinning token revoked')
      return await reply.code(204).send()
    }
  )
}
