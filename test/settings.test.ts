// The Settings screen's API on a real box: anyone reads the settings, only the signed-in owner
// replaces them, with a whole, valid document, and they survive a restart.
import t from 'tap'
import { DEFAULT_SETTINGS, type DeviceSettings } from '../server/settings/settings.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { getJson, rawRequest } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signInAsOwner } from './helpers/owner-session.ts'

const devnet = await startTestDevnet(t)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)

t.test('the owner replaces the settings; guests read them; they survive a restart', async t => {
  const config = daemonConfig(devnet, testDir(t, 'box'), ['player'])
  const box = await startTestDaemon(t, config)
  t.same(await getJson(`${box.url}/api/settings`), DEFAULT_SETTINGS, 'a new box has the defaults, readable by a guest')

  const { headers } = await signInAsOwner(box.url, owner)
  const put = async (body: unknown, withHeaders = headers) =>
    await rawRequest(`${box.url}/api/settings`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...withHeaders },
      body: JSON.stringify(body)
    })

  const mine: DeviceSettings = {
    storageQuotaBytes: 200 * 1024 ** 3,
    replication: { enabled: true, uploadCapBytesPerSec: 2_000_000, quietHours: { start: '23:00', end: '07:00' } },
    developerMode: true
  }
  const guestTry = await put({ ...mine, developerMode: false }, {})
  t.equal(guestTry.status, 401, 'a guest cannot change them')
  const saved = await put(mine)
  t.equal(saved.status, 200, saved.body)
  t.same(JSON.parse(saved.body), mine, 'the answer is the saved document')
  t.same(await getJson(`${box.url}/api/settings`), mine)
  t.same(await box.settings.get(), mine, 'the store holds them')

  const noQuietHours = { ...mine, replication: { ...mine.replication, enabled: false, quietHours: null } }
  t.equal((await put(noQuietHours)).status, 200, 'quiet hours can be switched off')
  t.same(await getJson(`${box.url}/api/settings`), noQuietHours)

  const invalid: [string, unknown][] = [
    ['a partial document', { developerMode: false }],
    ['a negative quota', { ...mine, storageQuotaBytes: -1 }],
    ['a fractional quota', { ...mine, storageQuotaBytes: 1.5 }],
    ['a quota as a string', { ...mine, storageQuotaBytes: '1000' }],
    ['a clock time out of range', { ...mine, replication: { ...mine.replication, quietHours: { start: '24:00', end: '07:00' } } }],
    ['quiet hours without an end', { ...mine, replication: { ...mine.replication, quietHours: { start: '23:00' } } }],
    ['an unknown setting', { ...mine, theme: 'dark' }],
    ['an unknown replication setting', { ...mine, replication: { ...mine.replication, peers: 3 } }],
    ['not an object', [mine]]
  ]
  for (const [what, body] of invalid) {
    const answer = await put(body)
    t.equal(answer.status, 400, `${what}: ${answer.body.slice(0, 160)}`)
  }
  t.same(await getJson(`${box.url}/api/settings`), noQuietHours, 'refused documents change nothing')

  const downtime = { start: '2030-06-01T08:00:00.000Z', end: '2030-06-08T08:00:00.000Z' }
  const away = { ...noQuietHours, replication: { ...noQuietHours.replication, downtime } }
  t.equal((await put(away)).status, 200, 'a planned downtime of 7 days')
  t.same(await getJson(`${box.url}/api/settings`), away)
  const tooLong = await put({ ...away, replication: { ...away.replication, downtime: { ...downtime, end: '2030-06-08T08:01:00.000Z' } } })
  t.equal(tooLong.status, 400, 'a minute over 7 days')
  t.match(JSON.parse(tooLong.body), { code: 'SEED_BAD_DOWNTIME', message: /must end after it starts and last at most 7 days/ })
  const backwards = await put({ ...away, replication: { ...away.replication, downtime: { start: downtime.end, end: downtime.start } } })
  t.match(JSON.parse(backwards.body), { code: 'SEED_BAD_DOWNTIME' }, 'ending before it starts')
  t.equal((await put({ ...away, replication: { ...away.replication, downtime: { start: 'tomorrow', end: downtime.end } } })).status, 400)
  t.equal((await put(away, {})).status, 401, 'a guest cannot set one')
  t.same(await getJson(`${box.url}/api/settings`), away, 'refused downtimes change nothing')
  t.equal((await put(noQuietHours)).status, 200)

  await box.close()
  const restarted = await startTestDaemon(t, config)
  t.same(await getJson(`${restarted.url}/api/settings`), noQuietHours, 'the settings survive a restart')
})
