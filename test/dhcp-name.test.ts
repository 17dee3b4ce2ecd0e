// The box's DHCP host name (issue 12, "finding the box from the TV"): TV browsers and Android resolve no
// .local name, but home routers put their DHCP clients' names in their DNS. A real dnsmasq (the DHCP and
// DNS server of many routers) and Debian's dhclient, on a veth link between two network namespaces that
// no packet leaves; the box's real reporter reaches a monitor on the router's side, whose discovery lists
// it. Needs root (the CI runs it as root), dnsmasq-base and isc-dhcp-client.
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const scenario = fileURLToPath(new URL('./appliance/dhcp-name-lan.ts', import.meta.url))

// Network, mount and UTS namespaces of their own: /run is a fresh tmpfs (for `ip netns` and dhclient),
// so nothing of the host's network or files is touched; the namespaces end with the last process.
const LAN = [
  'mount -t tmpfs tmpfs /run',
  'mkdir /run/netns',
  'ip link set lo up',
  'ip link add router0 type veth peer name box0',
  'ip addr add 10.78.0.1/24 dev router0',
  'ip link set router0 up',
  'ip netns add box',
  'ip link set box0 netns box',
  'exec "$@"'
].join(' && ')

t.test(
  'the box takes a DHCP lease as "seedone"; the router resolves seedone and seedone.lan to it, and the box answers to them',
  async t => {
    const { stdout } = await run('unshare', ['--net', '--mount', '--uts', 'sh', '-c', LAN, 'sh', process.execPath, scenario, t.testdir()], {
      timeout: 120_000
    })
    const seen = JSON.parse(stdout.trim().split('\n').at(-1) as string)
    t.match(seen.lease.address, /^10\.78\.0\.\d+$/, `the box holds a lease (${seen.lease.address})`)
    t.equal(seen.lease.hostname, 'seedone', 'its DHCP request named it seedone (dhclient.conf: send host-name = gethostname())')
    t.same(seen.resolved, { seedone: [seen.lease.address], 'seedone.lan': [seen.lease.address] }, "the router's DNS answers both names")
    t.match(seen.boxResolvConf, /^search lan$/m, "the lease's domain is the box's search domain")
    t.same(
      seen.answers,
      { 'seedone.lan:8080': 200, 'seedone:8080': 200, 'seedone.lan': 200, 'seedone.example:8080': 421 },
      'the box answers to seedone and seedone.lan, and still refuses a name not its own'
    )
    t.equal(seen.status.deviceId, seen.deviceId, 'the daemon itself answered')
    t.same(
      seen.discovered.map((box: { urls: string[] }) => box.urls),
      [[`http://${seen.lease.address}:8080/`]],
      "its reports carry the leased address: the monitor's discovery links it for a device at the same address"
    )
    t.match(
      seen.pairUrl,
      new RegExp(`^http://${seen.lease.address.replaceAll('.', '\\.')}:8080/pair\\?code=`),
      'the QR code names its LAN address'
    )
  }
)
