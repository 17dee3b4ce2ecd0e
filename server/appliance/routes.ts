import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import { SeedError } from '../lib/errors.ts'
import { isSignedIn, type OwnerSessions } from '../pairing/owner-session.ts'
import type { DiskConsent, DiskDecision } from './disk-consent.ts'

const nullableString = { type: ['string', 'null'] }
const diskSchema = {
  type: ['object', 'null'],
  required: ['id', 'path', 'sizeBytes', 'partitions'],
  properties: {
    id: { type: 'string' },
    path: { type: 'string' },
    model: nullableString,
    serial: nullableString,
    sizeBytes: { type: 'integer' },
    fstype: nullableString,
    label: nullableString,
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, sizeBytes: { type: 'integer' }, fstype: nullableString, label: nullableString }
      }
    }
  }
}
const viewSchema = {
  type: 'object',
  required: ['state', 'disk', 'message', 'updatedAt'],
  properties: {
    state: { type: 'string', enum: ['none', 'ready', 'pending', 'applying', 'declined', 'failed'] },
    disk: diskSchema,
    message: { type: 'string' },
    updatedAt: nullableString
  }
}

/**
 * GET|POST /api/appliance/disk-consent: the USB SSD the first boot found holding data, and the owner's
 * decision about it. Before the box is paired the TV is all there is, so anyone on the LAN may answer
 * (with the CSRF token of GET /api/session); once it is paired, only the signed-in owner.
 */
export async function applianceRoutes(
  app: FastifyInstance,
  opts: { consent: DiskConsent; sessions: OwnerSessions; paired: () => Promise<boolean> }
): Promise<void> {
  const ownerOncePaired: onRequestHookHandler = async request => {
    if ((await opts.paired()) && !(await isSignedIn(opts.sessions, request))) {
      throw new SeedError('SEED_NOT_SIGNED_IN', 'this Seed One is paired: only its owner can decide about its disk (sign in first)')
    }
  }

  app.get(
    '/api/appliance/disk-consent',
    { onRequest: ownerOncePaired, schema: { response: { 200: viewSchema } } },
    async () => await opts.consent.read()
  )

  app.post<{ Body: { decision: DiskDecision; diskId: string } }>(
    '/api/appliance/disk-consent',
    {
      onRequest: [ownerOncePaired, app.csrfProtection],
      schema: {
        body: {
          type: 'object',
          required: ['decision', 'diskId'],
          additionalProperties: false,
          properties: { decision: { type: 'string', enum: ['erase', 'keep'] }, diskId: { type: 'string', pattern: '^[0-9a-f]{16}$' } }
        },
        response: { 202: viewSchema }
      }
    },
    async (request, reply) => {
      const view = await opts.consent.decide(request.body.decision, request.body.diskId)
      request.log.info({ decision: request.body.decision, disk: view.disk?.path }, 'data disk decision recorded')
      return await reply.code(202).send(view)
    }
  )
}
