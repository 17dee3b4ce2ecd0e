// The monitor's discovery page (issue 12, "finding the box from the TV"): boxes report their LAN
// addresses; a visitor is shown the boxes that reported from its own public address, and nobody else's.
// 127.0.0.2 and 127.0.0.3 stand for two homes' public addresses, 127.0.0.4 for a stranger's.
import t from 'tap'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { REPORTS_PATH, type LanPresence } from '../server/wire/monitor-protocol.ts'
import { createDiscovery, networkOf } from '../server/monitor/discovery.ts'
import { lanPresence } from '../server/health/lan-presence.ts'
import { deviceSuffix } from '../server/http/host-name.ts'
import { rawRequest, type RawResponse } from './helpers/http.ts'
import { healthReport, startTestMonitor } from './helpers/monitor.ts'
import { testDir } from './helpers/in-process.ts'

const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
const [first, second, elsewhere] = await Promise.all(
  ['first', 'second', 'elsewhere'].map(name => loadOrCreateDeviceIdentity(testDir(t, name)))
)
const seqs = new Map<string, number>()

/** A signed report of `box` with `lan`, sent from `from` (the home's public address as the monitor sees it). */
async function report(box: DeviceIdentity, from: string, lan?: LanPresence): Promise<RawResponse> {
  const seq = (seqs.get(box.deviceId) ?? 0) + 1
  seqs.set(box.deviceId, seq)
  const signed = await signPayload(box, healthReport(box, seq, { apiUrl: 'http://127.0.0.1:1', lan }))
  return await rawRequest(`${monitor.url}${REPORTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signed),
    localAddress: from
  })
}

async function discover(from: string): Promise<{ boxes: Array<{ name: string; urls: string[] }> }> {
  const answer = await rawRequest(`${monitor.url}/api/discover`, { localAddress: from })
  if (answer.status !== 200) throw new Error(`GET /api/discover answered ${answer.status}: ${answer.body}`)
  return JSON.parse(answer.body)
}

const nameOf = (box: DeviceIdentity): string => `seedone-${deviceSuffix(box.deviceId)}`

t.test('a visitor sees the boxes that reported from its own address, with their LAN links, and nobody else does', async t => {
  t.equal((await report(first, '127.0.0.2', { addresses: ['192.168.1.20', 'fd12:3456::20'], uiPort: 8080 })).status, 201)
  t.equal((await report(second, '127.0.0.2', { addresses: ['192.168.1.21'], uiPort: 80 })).status, 201)
  t.equal((await report(elsewhere, '127.0.0.3', { addresses: ['10.0.0.5'], uiPort: 8080 })).status, 201)

  const home = { name: nameOf(first), urls: ['http://192.168.1.20:8080/', 'http://[fd12:3456::20]:8080/'] }
  const other = { name: nameOf(second), urls: ['http://192.168.1.21/'] }
  t.same(
    (await discover('127.0.0.2')).boxes.map(({ name, urls }) => ({ name, urls })),
    [home, other].sort((a, b) => a.name.localeCompare(b.name)),
    'the home behind 127.0.0.2 sees exactly its two boxes'
  )
  t.same(
    (await discover('127.0.0.3')).boxes.map(box => box.urls),
    [['http://10.0.0.5:8080/']],
    'the home behind 127.0.0.3 sees its one'
  )
  t.same((await discover('127.0.0.4')).boxes, [], 'a stranger sees none')

  const page = await rawRequest(`${monitor.url}/discover`, { localAddress: '127.0.0.2' })
  t.equal(page.status, 200)
  t.match(page.body, /^<!doctype html>/)
  for (const url of [...home.urls, ...other.urls]) t.ok(page.body.includes(`<a href="${url}">`), `the page links ${url}`)
  t.notOk(page.body.includes('10.0.0.5'), "and not the other home's box")
  const strangers = await rawRequest(`${monitor.url}/discover`, { localAddress: '127.0.0.4' })
  t.notOk(/href="http/.test(strangers.body), 'the page links nothing for a stranger')
  t.match(strangers.body, /No Seed One has reported from your network/)

  const api = await fetch(`${monitor.url}/api/discover`)
  t.equal(api.headers.get('cache-control'), 'no-store', 'never cached: the answer depends on who asks')
  t.equal((await fetch(`${monitor.url}/discover`)).headers.get('cache-control'), 'no-store')
})

t.test('the latest report counts: a new address replaces the old, a box that moved leaves its old home', async t => {
  t.equal((await report(first, '127.0.0.2', { addresses: ['192.168.1.30'], uiPort: 8080 })).status, 201)
  const listed = (await discover('127.0.0.2')).boxes.find(box => box.name === nameOf(first))
  t.same(listed?.urls, ['http://192.168.1.30:8080/'], 'only the latest address')

  t.equal((await report(first, '127.0.0.3', { addresses: ['10.0.0.6'], uiPort: 8080 })).status, 201)
  t.same(
    (await discover('127.0.0.2')).boxes.map(box => box.name),
    [nameOf(second)],
    'gone from the home it left'
  )
  t.equal((await discover('127.0.0.3')).boxes.length, 2, 'listed in its new home')

  t.equal((await report(second, '127.0.0.2')).status, 201, 'a report without LAN addresses (an older release) is accepted')
  t.same((await discover('127.0.0.2')).boxes, [], 'and lists the box nowhere')
})

t.test('LAN addresses are checked strictly: private literals only, a bounded count, a real port', async t => {
  const refused: Array<[string, LanPresence, RegExp]> = [
    ['a public address', { addresses: ['8.8.8.8'], uiPort: 80 }, /\/lan\/addresses\/0 must be a private address/],
    ['loopback', { addresses: ['192.168.1.2', '127.0.0.1'], uiPort: 80 }, /\/lan\/addresses\/1 must be a private address/],
    ['an IPv6 link-local address', { addresses: ['fe80::1'], uiPort: 80 }, /must be a private address/],
    ['markup', { addresses: ['192.168.1.2"><script>'], uiPort: 80 }, /must be a private address|must NOT have more/],
    ['a name', { addresses: ['seedone.lan'], uiPort: 80 }, /must be a private address/],
    [
      'nine addresses',
      { addresses: Array.from({ length: 9 }, (_, i) => `10.0.0.${i + 1}`), uiPort: 80 },
      /must NOT have more than 8 items/
    ],
    ['port 0', { addresses: ['10.0.0.1'], uiPort: 0 }, /uiPort must be >= 1/],
    ['port 65536', { addresses: ['10.0.0.1'], uiPort: 65536 }, /uiPort must be <= 65535/]
  ]
  const box = await loadOrCreateDeviceIdentity(testDir(t, 'strict'))
  for (const [what, lan, message] of refused) {
    const answer = await report(box, '127.0.0.5', lan)
    t.equal(answer.status, 400, `${what} is refused`)
    t.match(JSON.parse(answer.body).message, message)
  }
  t.same((await discover('127.0.0.5')).boxes, [], 'and nothing is listed')
})

t.test('a box is forgotten once silent past the node timeout', async t => {
  const discovery = createDiscovery({ nodeTimeoutMs: 60_000, admits: async () => true })
  const at = new Date('2026-12-01T20:00:00Z')
  discovery.seen(healthReport(first, 1, { apiUrl: 'http://127.0.0.1:1', lan: { addresses: ['10.0.0.1'], uiPort: 80 } }), '203.0.113.7', at)
  t.equal((await discovery.boxesFor('203.0.113.7', new Date(at.getTime() + 60_000))).length, 1, 'listed up to the timeout')
  t.same(await discovery.boxesFor('203.0.113.7', new Date(at.getTime() + 60_001)), [], 'forgotten after it')
  t.same(await discovery.boxesFor('203.0.113.7', at), [], 'for good')

  const refusing = createDiscovery({ nodeTimeoutMs: 60_000, admits: async () => false })
  refusing.seen(healthReport(first, 1, { apiUrl: 'http://127.0.0.1:1', lan: { addresses: ['10.0.0.1'], uiPort: 80 } }), '203.0.113.7', at)
  t.same(await refusing.boxesFor('203.0.113.7', at), [], 'a device no longer admitted is not listed')
})

t.test('one home is one IPv4 address or one IPv6 /64', async t => {
  t.equal(networkOf('::ffff:198.51.100.4'), '198.51.100.4')
  t.equal(networkOf('2001:db8:1:2::5'), networkOf('2001:db8:1:2:abcd:ef::9'), 'two devices of one /64')
  t.not(networkOf('2001:db8:1:2::5'), networkOf('2001:db8:1:3::5'), 'another /64')
  t.equal(networkOf('2001:db8::1'), '2001:db8:0:0::/64')
})

t.test("a box reports the private addresses its UI listens on and the UI's port", async t => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: 'fe80::2', family: 'IPv6', internal: false },
      { address: 'fd00::2', family: 'IPv6', internal: false },
      { address: '2001:db8::2', family: 'IPv6', internal: false },
      { address: '192.168.1.20', family: 'IPv4', internal: false }
    ],
    wwan0: [{ address: '198.51.100.9', family: 'IPv4', internal: false }]
  } as unknown as Parameters<typeof lanPresence>[2]
  t.same(lanPresence('::', 8080, interfaces), { addresses: ['192.168.1.20', 'fd00::2'], uiPort: 8080 }, 'every interface, IPv4 first')
  t.same(lanPresence('0.0.0.0', 80, interfaces).addresses, ['192.168.1.20'], 'IPv4 only on 0.0.0.0')
  t.same(lanPresence('192.168.1.20', 80, interfaces).addresses, ['192.168.1.20'], 'the one address it listens on')
  t.same(lanPresence('127.0.0.1', 80, interfaces).addresses, [], 'none on loopback')
})
