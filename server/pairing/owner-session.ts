import { createHash, randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { section, type StateDb } from '../storage/state-db.ts'
import { SeedError } from '../lib/errors.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** Keyed by the hash of a session token, or `sign-in:` and the hash of a sign-in link's token. */
    sessions: { [tokenHash: string]: { expiresAt: number } }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * onRequest hooks for every route that changes the box: the owner's session cookie, then the CSRF
     * token. At onRequest a guest is refused before any body is parsed or validated on their behalf.
     */
    requireOwner: onRequestHookHandler[]
    /**
     * The onRequest hook of every route that reads what only the owner's screens may see (films, their
     * subtitles and thumbnails, the library): the session cookie, no CSRF token (reads change nothing).
     */
    requireSignedIn: onRequestHookHandler
  }
  interface FastifyReply {
    /** Signs this browser in as the owner (sets the session cookie). */
    startOwnerSession(): Promise<void>
    /** Drops this browser's session cookie (the session itself is revoked by OwnerSessions). */
    endOwnerSession(): void
  }
}

export const SESSION_COOKIE = 'seedone_session'
export const CSRF_HEADER = 'x-csrf-token'
/** GET ?token=…: a one-time sign-in link (OwnerSessions.issueSignInToken). */
export const SIGN_IN_LINK_PATH = '/api/session/sign-in'
const DAY_MS = 24 * 60 * 60_000
/**
 * A session lasts this long after it was last used: a TV watched every month stays signed in, one put
 * away (or a cookie copied off a guest's laptop) stops working within a month.
 */
export const SESSION_LIFETIME_MS = 30 * DAY_MS
/** A session in use is renewed at most once a day, so reads do not each write the database. */
const RENEWAL_STEP_MS = DAY_MS

/** Owner sessions, kept as hashes of their tokens so the database never holds a usable cookie. */
export interface OwnerSessions {
  issue(): Promise<string>
  isValid(token: string | undefined): Promise<boolean>
  /**
   * Sliding renewal: moves a valid session's end to SESSION_LIFETIME_MS from now when it is more than
   * a day away from it (either way: a session from before the lifetime was shortened is cut down to it).
   * True when it moved, so the cookie is sent again.
   */
  renew(token: string): Promise<boolean>
  /** Signs every browser out (unpairing). */
  revokeAll(): Promise<void>
  /**
   * A one-time sign-in token for a browser (the devnet demo prints it as a link, the way Jupyter prints
   * its token URL: the newcomer has no wallet to sign with). Nothing but in-process code can make one.
   */
  issueSignInToken(): Promise<string>
  /** True, once, for a token issueSignInToken made that has not expired; it is spent either way. */
  redeemSignInToken(token: string): Promise<boolean>
}

/** How long a sign-in link stays usable when no one opens it. */
const SIGN_IN_TOKEN_LIFETIME_MS = DAY_MS

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex')

export function createOwnerSessions(db: StateDb): OwnerSessions {
  const store = section(db, 'sessions')
  // sign-in tokens beside the sessions, under their own prefix: unpairing revokes both at once
  const signInKey = (token: string): string => `sign-in:${tokenHash(token)}`
  return {
    issue: async () => {
      const token = randomBytes(32).toString('base64url')
      await store.put(tokenHash(token), { expiresAt: Date.now() + SESSION_LIFETIME_MS })
      return token
    },
    isValid: async token => {
      if (token === undefined || token.length > 100) return false
      const session = await store.get(tokenHash(token))
      return session !== undefined && session.expiresAt > Date.now()
    },
    renew: async token => {
      const key = tokenHash(token)
      const session = await store.get(key)
      const target = Date.now() + SESSION_LIFETIME_MS
      if (session === undefined || session.expiresAt <= Date.now() || Math.abs(session.expiresAt - target) < RENEWAL_STEP_MS) return false
      await store.put(key, { expiresAt: target })
      return true
    },
    revokeAll: async () => {
      for (const [key] of await store.entries()) await store.del(key)
    },
    issueSignInToken: async () => {
      const token = randomBytes(32).toString('base64url')
      await store.put(signInKey(token), { expiresAt: Date.now() + SIGN_IN_TOKEN_LIFETIME_MS })
      return token
    },
    redeemSignInToken: async token => {
      const key = signInKey(token)
      const link = await store.get(key)
      if (link === undefined) return false
      await store.del(key)
      return link.expiresAt > Date.now()
    }
  }
}

/** GET /api/session: whether this browser is signed in as the owner, and the CSRF token its state-changing requests send. */
export interface SessionView {
  signedIn: boolean
  /** The owner's wallet, to the owner's signed-in browsers only. */
  owner: string | null
  csrfToken: string
}

const sessionSchema = {
  type: 'object',
  required: ['signedIn', 'owner', 'csrfToken'],
  additionalProperties: false,
  properties: { signedIn: { type: 'boolean' }, owner: { type: ['string', 'null'] }, csrfToken: { type: 'string' } }
} as const

/** Sessions a browser is signed in with: HTTP-only, same-site only, for the whole UI. */
function sessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    maxAge: SESSION_LIFETIME_MS / 1000
  })
}

export async function isSignedIn(sessions: OwnerSessions, request: FastifyRequest): Promise<boolean> {
  return await sessions.isValid(request.cookies[SESSION_COOKIE])
}

/**
 * Owner sign-in: established by pairing (routes.ts), held as a cookie, and required with a CSRF token
 * (double submit, @fastify/csrf-protection) by every state-changing route, so a guest on the LAN and a
 * page on another site can change nothing.
 */
export const ownerSession = fp(
  async (app: FastifyInstance, opts: { sessions: OwnerSessions; owner(): Promise<string | undefined> }) => {
    await app.register(fastifyCookie)
    await app.register(fastifyCsrf, {
      cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict' },
      getToken: request => {
        const token = request.headers[CSRF_HEADER]
        return typeof token === 'string' ? token : undefined
      }
    })

    const signedIn: onRequestHookHandler = async (request, reply) => {
      if (!(await isSignedIn(opts.sessions, request))) {
        throw new SeedError(
          'SEED_NOT_SIGNED_IN',
          'only the owner can do this: sign in with the owner wallet first (scan the code this screen shows)'
        )
      }
      await renewSession(request, reply)
    }
    // A renewal that cannot be written (a full disk) leaves the session as it was: the request goes on.
    const renewSession = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const token = request.cookies[SESSION_COOKIE] as string
      const renewed = await opts.sessions.renew(token).catch(err => {
        request.log.warn({ err: (err as Error).message }, 'could not renew the owner session')
        return false
      })
      if (renewed) sessionCookie(reply, token)
    }
    app.decorate('requireOwner', [signedIn, app.csrfProtection])
    app.decorate('requireSignedIn', signedIn)
    app.decorateReply('startOwnerSession', async function (this: FastifyReply) {
      sessionCookie(this, await opts.sessions.issue())
    })
    app.decorateReply('endOwnerSession', function (this: FastifyReply) {
      this.clearCookie(SESSION_COOKIE, { path: '/' })
    })

    app.get('/api/session', { schema: { response: { 200: sessionSchema } } }, async (request, reply): Promise<SessionView> => {
      const owner = (await opts.owner()) ?? null
      const signed = await isSignedIn(opts.sessions, request)
      if (signed) await renewSession(request, reply)
      reply.header('cache-control', 'no-store')
      // the owner's wallet is the owner's business: a guest learns only that the box is someone's
      return { signedIn: signed, owner: signed ? owner : null, csrfToken: reply.generateCsrf() }
    })

    // The link the devnet demo prints: it signs this browser in once, then sends it to the UI, which
    // leaves the token out of the address bar and history.
    app.get<{ Querystring: { token: string } }>(
      SIGN_IN_LINK_PATH,
      {
        schema: {
          querystring: {
            type: 'object',
            required: ['token'],
            additionalProperties: false,
            properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } }
          }
        }
      },
      async (request, reply) => {
        if (!(await opts.sessions.redeemSignInToken(request.query.token))) {
          throw new SeedError(
            'SEED_SIGN_IN_LINK_REFUSED',
            'this sign-in link was used already or has expired: sign in with the code the TV shows'
          )
        }
        await reply.startOwnerSession()
        return await reply.header('cache-control', 'no-store').redirect('/', 303)
      }
    )
  },
  { name: 'owner-session' }
)
