// Run by test/mdns.test.ts inside a network namespace of its own, where box0 (10.77.0.1, the box) and
// tv0 (10.77.0.2, the TV) are the two ends of one veth link: a LAN that no packet leaves. A real daemon
// advertises itself on box0; a bonjour-service browser on tv0 looks for it as a TV's browser would,
// and then asks the address it resolved for /api/status. Prints one JSON line.
import Bonjour from 'bonjour-service'
import { startDevnet } from '../../server/devnet/devnet.ts'
import { startDaemon } from '../../server/daemon.ts'
import { advertiseOnLan } from '../../server/appliance/mdns.ts'
import { daemonConfig } from '../helpers/in-process.ts'

const BOX = '10.77.0.1'
const TV = '10.77.0.2'
const dataDir = process.argv[2] as string

const devnet = await startDevnet({ port: 0 })
const box = await startDaemon(
  { ...daemonConfig(devnet, dataDir, ['player']), host: BOX, p2pListen: [`/ip4/${BOX}/tcp/0`], mdns: true },
  { logLevel: 'silent' }
)
const tv = new Bonjour({ interface: TV, bind: '0.0.0.0' } as ConstructorParameters<typeof Bonjour>[0])
const found = await new Promise<Bonjour.Service>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no Seed One found on the LAN in 30 s')), 30_000)
  tv.find({ type: 'http' }, service => {
    if (service.txt?.product !== 'seed-one') return
    clearTimeout(timer)
    resolve(service)
  })
})
const address = (found.addresses ?? []).find(a => a === BOX) ?? ''
const status = await fetch(`http://${address}:${found.port}/api/status`).then(async response => await response.json())

// A second Seed One on the same LAN must not take the first one's name.
const second = await advertiseOnLan({ host: TV, port: 8081, deviceId: 'another-box', version: 'test', log: box.app.log })
const secondHostName = await second?.hostName()

console.log(
  JSON.stringify({
    service: { name: found.name, host: found.host, port: found.port, addresses: found.addresses, txt: found.txt },
    boxUrl: box.url,
    boxDeviceId: box.identity.deviceId,
    status,
    secondHostName
  })
)
await second?.close()
await new Promise<void>(resolve => tv.destroy(() => resolve()))
await box.close()
await devnet.close()
