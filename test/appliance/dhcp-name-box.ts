// The box of test/dhcp-name.test.ts, run in its own network and UTS namespaces once its DHCP client holds
// a lease: host name "seedone", resolv.conf as the lease wrote it. A real daemon on every address, port
// 8080, reporting to the monitor at argv[3]; once the monitor has its report, the box asks the monitor's
// discovery from its own address (as a phone in the same home would, behind the same router) and prints
// one JSON line. Closes when its standard input ends.
import { startDevnet } from '../../server/devnet/devnet.ts'
import { startDaemon } from '../../server/daemon.ts'
import { daemonConfig } from '../helpers/in-process.ts'
import { getJson } from '../helpers/http.ts'
import { waitFor } from '../helpers/wait-for.ts'

const [dataDir, monitorUrl] = process.argv.slice(2) as [string, string]
const devnet = await startDevnet({ port: 0 })
const box = await startDaemon(
  {
    ...daemonConfig(devnet, dataDir, ['player']),
    host: '0.0.0.0',
    port: 8080,
    p2pListen: ['/ip4/127.0.0.1/tcp/0'],
    monitorUrl
  },
  { logLevel: 'silent' }
)
const discovered = await waitFor(
  'the monitor to list this box',
  async () => {
    const { boxes } = await getJson<{ boxes: unknown[] }>(`${monitorUrl}/api/discover`)
    return boxes.length > 0 && boxes
  },
  { timeoutMs: 30_000 }
)
console.log(JSON.stringify({ deviceId: box.identity.deviceId, discovered }))
process.stdin.resume()
await new Promise(resolve => process.stdin.on('end', resolve))
await box.close()
await devnet.close()
