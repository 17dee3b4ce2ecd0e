// The box of test/dhcp-name.test.ts, run in its own network and UTS namespaces once its DHCP client holds
// a lease: host name "seedone", resolv.conf as the lease wrote it. A real daemon on every address, port
// 8080; prints one JSON line when it listens, and closes when its standard input ends.
import { startDevnet } from '../../server/devnet/devnet.ts'
import { startDaemon } from '../../server/daemon.ts'
import { daemonConfig } from '../helpers/in-process.ts'

const devnet = await startDevnet({ port: 0 })
const box = await startDaemon(
  { ...daemonConfig(devnet, process.argv[2] as string, ['player']), host: '0.0.0.0', port: 8080, p2pListen: ['/ip4/127.0.0.1/tcp/0'] },
  { logLevel: 'silent' }
)
console.log(JSON.stringify({ deviceId: box.identity.deviceId }))
process.stdin.resume()
await new Promise(resolve => process.stdin.on('end', resolve))
await box.close()
await devnet.close()
