// GET IDENTITY_PATH: the box says, signed by its device key, that it answers at its apiUrl. The
// monitor lists a node only once the apiUrl of its reports gave this answer for that node's key, so
// a report cannot name another box's (or any other host's) URL as its own.
import type { FastifyInstance } from 'fastify'
import { SeedError } from '../lib/errors.ts'
import { IDENTITY_PATH, type IdentityStatement } from '../wire/monitor-protocol.ts'
import type { DeviceIdentity } from './device-identity.ts'
import { signPayload } from './device-signature.ts'

export interface IdentityRoutesOptions {
  identity: DeviceIdentity
  /** The URL this box reports as its own; undefined until it listens. */
  apiUrl(): string | undefined
}

export async function identityRoutes(app: FastifyInstance, opts: IdentityRoutesOptions): Promise<void> {
  app.get<{ Querystring: { nonce: string } }>(
    IDENTITY_PATH,
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['nonce'],
          properties: { nonce: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' } }
        }
      }
    },
    async request => {
      const apiUrl = opts.apiUrl()
      if (apiUrl === undefined) throw new SeedError('SEED_STARTING', 'this box is starting: ask again in a moment')
      const statement: IdentityStatement = {
        purpose: 'seed-one/identity/v1',
        deviceId: opts.identity.deviceId,
        apiUrl,
        nonce: request.query.nonce
      }
      return await signPayload(opts.identity, statement)
    }
  )
}
