// The daemon's own seedone.local advertisement (server/appliance/mdns.ts), for machines without avahi.
// Multicast is tested on a LAN of its own: a network namespace holding one veth link (box0 ↔ tv0),
// so no packet reaches any network outside this test.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import { advertiseOnLan } from '../server/appliance/mdns.ts'
import { deviceSuffix } from '../server/http/host-name.ts'

const run = promisify(execFile)
const scenario = fileURLToPath(new URL('./appliance/mdns-lan-scenario.ts', import.meta.url))
const log = Fastify().log

// Root in a new user namespace (so it runs as any user), a network namespace with only the veth link,
// and a mount namespace where the host's avahi socket, if any, is hidden: on this LAN no avahi runs.
const LAN = [
  'ip link set lo up',
  'ip link add box0 type veth peer name tv0',
  'ip addr add 10.77.0.1/24 dev box0',
  'ip addr add 10.77.0.2/24 dev tv0',
  'ip link set box0 up',
  'ip link set tv0 up',
  'if [ -e /run/avahi-daemon ]; then mount -t tmpfs tmpfs /run/avahi-daemon; fi',
  'exec "$@"'
].join(' && ')

t.test('a TV on the LAN finds the daemon as seedone.local, _http._tcp, and reaches its API', async t => {
  const { stdout } = await run(
    'unshare',
    ['--map-root-user', '--net', '--mount', 'sh', '-c', LAN, 'sh', process.execPath, scenario, t.testdir()],
    {
      timeout: 120_000
    }
  )
  const seen = JSON.parse(stdout.trim().split('\n').at(-1) as string)
  t.equal(seen.service.host, 'seedone.local')
  t.equal(seen.service.name, `Seed One ${deviceSuffix(seen.boxDeviceId)}`)
  t.equal(`http://10.77.0.1:${seen.service.port}`, seen.boxUrl, 'the port the daemon listens on')
  t.ok(seen.service.addresses.includes('10.77.0.1'), `seedone.local resolves to the box (${seen.service.addresses.join(' ')})`)
  t.same(seen.service.txt, { path: '/', product: 'seed-one', deviceid: seen.boxDeviceId, version: seen.status.version })
  t.equal(seen.status.deviceId, seen.boxDeviceId, 'GET /api/status at the resolved address answers')
  t.equal(seen.secondHostName, `seedone-${deviceSuffix('another-box')}.local`, 'a second box takes seedone-xxxx.local')
})

t.test('no advertisement where avahi runs or where the server is on loopback only', async t => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-avahi-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // a real listening unix socket where avahi-daemon keeps its own
  const avahi = createServer()
  const avahiSocket = path.join(dir, 'socket')
  await new Promise<void>(resolve => avahi.listen(avahiSocket, resolve))
  t.teardown(() => avahi.close())

  const box = { port: 8080, deviceId: 'box', version: 'test', log }
  t.equal(await advertiseOnLan({ ...box, host: '0.0.0.0', avahiSocket }), undefined, 'avahi advertises the box itself')
  t.equal(
    await advertiseOnLan({ ...box, host: '127.0.0.1', avahiSocket: path.join(dir, 'none') }),
    undefined,
    'loopback: no one on the LAN could use it'
  )
  t.equal(await advertiseOnLan({ ...box, host: '::1', avahiSocket: path.join(dir, 'none') }), undefined)
})
