// The library's event stream against one client that holds many connections (issue 11, smaller items):
// each listener holds a connection open, and there are MAX_LISTENERS places in all. One client address
// used to be able to take all of them, so the owner's TV got 503 and fell back to slow polls. A guest
// with no session is refused outright (security-lan); a signed-in device, or a guest holding a copied
// session cookie, is the one tried here. Other client addresses are 127.0.0.2 and on (all of 127/8 is
// loopback on Linux).
import t from 'tap'
import { MAX_LISTENERS, MAX_LISTENERS_PER_ADDRESS } from '../server/library/events-route.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { listenToEvents, rawRequest } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']))
const eventsUrl = `${box.url}/api/library/events`
const session = await signedInCookie(box.url, devnetWallet(t, devnet, devnet.accounts.owner.privateKey))
const GUEST = '127.0.0.2'
const TV = '127.0.0.3'

t.test('one address cannot take every listener place: the TV at another address still gets one', async t => {
  const guest = await Promise.all(
    Array.from({ length: MAX_LISTENERS }, async () => await listenToEvents(eventsUrl, session, { localAddress: GUEST }))
  )
  t.teardown(() => guest.forEach(listener => listener.close()))
  const held = guest.filter(listener => listener.status === 200)
  t.equal(held.length, MAX_LISTENERS_PER_ADDRESS, `the guest holds ${held.length} of ${MAX_LISTENERS} places`)
  t.ok(
    guest.every(listener => listener.status === 200 || listener.status === 429),
    'the rest are refused as too many'
  )
  const refused = await rawRequest(eventsUrl, { headers: session, localAddress: GUEST })
  t.equal(refused.status, 429)
  t.match(JSON.parse(refused.body), { code: 'SEED_RATE_LIMITED' })

  const tv = await listenToEvents(eventsUrl, session, { localAddress: TV })
  t.teardown(tv.close)
  t.equal(tv.status, 200, "the owner's TV follows the library")

  held[0].close()
  const again = await waitFor('the place the guest left to free up', async () => {
    const listener = await listenToEvents(eventsUrl, session, { localAddress: GUEST })
    if (listener.status === 200) return listener
    listener.close()
    return false
  })
  t.teardown(again.close)
  t.pass('a listener that leaves frees its place for its address')
})
