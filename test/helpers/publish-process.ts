// publishFilm in a process of its own on a custodian's data directory, killed with SIGKILL (no clean-up
// runs) as it enters the step named by its last argument, if any: a kill -9 at a chosen moment of a
// publish, which a timer cannot hit reliably on a film that seals in milliseconds.
//   node test/helpers/publish-process.ts <data dir> <rpc url> <contract> <video> [step to die at]
import { Wallet, type Contract } from 'ethers'
import { connectFilmToken } from '../../server/chain/film-token.ts'
import { loadOrCreateDeviceIdentity } from '../../server/identity/device-identity.ts'
import { openCustodyStore } from '../../server/keys/custody-store.ts'
import { publishFilm } from '../../server/publish/publish-film.ts'
import { createStorageNode } from '../../server/storage/helia-node.ts'
import { openStateDb } from '../../server/storage/state-db.ts'
import { devnetAccounts } from '../../server/devnet/accounts.ts'

const [dataDir, rpcUrl, contractAddress, input, dieAt] = process.argv.slice(2)
const chain = await connectFilmToken({ rpcUrl, contractAddress, deploymentBlock: 0 })
const creator = new Wallet(devnetAccounts.creator.privateKey, chain.provider)
const db = await openStateDb(dataDir)
const identity = await loadOrCreateDeviceIdentity(dataDir)
const helia = await createStorageNode({ dataDir, privateKey: identity.privateKey, listen: [], bootstrap: [] })
const film = await publishFilm(
  {
    helia,
    db,
    custody: await openCustodyStore(dataDir, db),
    contract: chain.contract.connect(creator) as Contract,
    creator: creator.address,
    custodian: { url: 'http://127.0.0.1:8080', peerId: identity.deviceId },
    onProgress: step => {
      if (step === dieAt) process.kill(process.pid, 'SIGKILL')
    }
  },
  { input, title: 'Killed while preparing' }
)
process.stdout.write(`${JSON.stringify(film)}\n`)
await helia.close()
await db.close()
chain.provider.destroy()
