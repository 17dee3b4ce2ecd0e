// Run by test/dhcp-name.test.ts in network, mount and UTS namespaces of its own: this process is the home
// router and the TV. A dnsmasq serves DHCP and DNS (domain "lan") on router0 (10.78.0.1); the box, in a
// network namespace of its own behind the veth peer box0, takes a lease with Debian's dhclient and its
// stock /etc/dhcp/dhclient.conf (`send host-name = gethostname();`) under the host name "seedone", then
// runs a real daemon that reports to the network's monitor (here too). The TV resolves the names through
// dnsmasq and asks the box with those names in Host.
// Prints one JSON line.
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { Resolver } from 'node:dns/promises'
import { once } from 'node:events'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { rawRequest } from '../helpers/http.ts'
import { monitorConfig } from '../helpers/monitor.ts'
import { startMonitor } from '../../server/monitor/monitor.ts'

const dir = process.argv[2] as string
const here = path.dirname(fileURLToPath(import.meta.url))
const ROUTER = '10.78.0.1'

const dnsmasq = spawn(
  'dnsmasq',
  [
    '--conf-file=/dev/null',
    '--keep-in-foreground',
    '--interface=router0',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--domain=lan',
    '--local=/lan/',
    '--dhcp-range=10.78.0.50,10.78.0.99,1h',
    `--dhcp-leasefile=${dir}/leases`,
    `--pid-file=${dir}/dnsmasq.pid`,
    '--user=root',
    `--log-facility=${dir}/dnsmasq.log`
  ],
  { stdio: 'inherit' }
)
// the network's monitor, on the internet side of the router in real life
const monitor = await startMonitor(monitorConfig(path.join(dir, 'monitor'), { host: ROUTER, port: 8090 }), { logLevel: 'silent' })
const resolvConf = path.join(dir, 'resolv.conf')
await writeFile(resolvConf, '')
// The box: hostname seedone, the lease's resolv.conf bound over /etc/resolv.conf in its own mount namespace
// (ip netns exec makes one), dhclient until it holds a lease (-1: once), then the daemon; the
// DHCP client, which stays to renew the lease, is stopped when the shell ends.
const boxScript = [
  `trap 'kill "$(cat ${dir}/dhclient.pid 2>/dev/null)" 2>/dev/null' EXIT`,
  [
    'hostname seedone',
    'ip link set lo up',
    `mount --bind ${resolvConf} /etc/resolv.conf`,
    `dhclient -1 -sf ${here}/dhclient-apply.sh -pf ${dir}/dhclient.pid -lf ${dir}/dhclient.leases box0`,
    `${process.execPath} ${here}/dhcp-name-box.ts ${dir}/box ${monitor.url}`
  ].join(' && ')
].join('\n')
const box = spawn('ip', ['netns', 'exec', 'box', 'unshare', '--uts', 'sh', '-c', boxScript], { stdio: ['pipe', 'pipe', 'inherit'] })
// the test's timeout ends this process: the box closes when its standard input does, dnsmasq is told here
process.once('SIGTERM', () => {
  dnsmasq.kill()
  process.exit(1)
})
try {
  const [line] = (await once(createInterface({ input: box.stdout }), 'line')) as [string]
  const { deviceId, discovered } = JSON.parse(line)
  const lease = (await readFile(`${dir}/leases`, 'utf8')).trim().split(/\s+/)
  const resolver = new Resolver()
  resolver.setServers([ROUTER])
  const resolved = { seedone: await resolver.resolve4('seedone'), 'seedone.lan': await resolver.resolve4('seedone.lan') }
  const address = lease[2] as string
  const answers: Record<string, number> = {}
  for (const host of ['seedone.lan:8080', 'seedone:8080', 'seedone.lan', 'seedone.example:8080']) {
    answers[host] = (await rawRequest(`http://${address}:8080/api/status`, { headers: { host } })).status
  }
  const status = JSON.parse((await rawRequest(`http://${address}:8080/api/status`, { headers: { host: 'seedone.lan:8080' } })).body)
  const pairing = JSON.parse((await rawRequest(`http://${address}:8080/api/pairing`, { headers: { host: 'seedone.lan:8080' } })).body)
  const boxResolvConf = await readFile(resolvConf, 'utf8')
  console.log(
    JSON.stringify({
      lease: { address, hostname: lease[3] },
      resolved,
      answers,
      deviceId,
      status,
      pairUrl: pairing.pairUrl,
      boxResolvConf,
      discovered
    })
  )
} finally {
  box.stdin.end()
  await once(box, 'exit')
  dnsmasq.kill()
  await once(dnsmasq, 'exit')
  await monitor.close()
}
