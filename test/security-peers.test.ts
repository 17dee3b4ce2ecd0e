// Issue 11, finding 6, tried as a storage peer or a creator would on real parts (devnet, custodian,
// a paired player): URLs handed to boxes that would turn their requests to other hosts, paths or
// redirects.
import t from 'tap'
import { pairAsOwner } from '../server/demo.ts'
import type { FilmRecord } from '../server/library/film-record.ts'
import { section } from '../server/storage/state-db.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { startRecorder } from './helpers/peers.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))

t.test("a custodian URL in a film's metadata with a path, or that redirects, is not followed", async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'player'), ['player'], custodian.multiaddrs()))
  await pairAsOwner(box.url, owner)
  const pathHost = await startRecorder(t)
  const target = await startRecorder(t)
  const redirector = await startRecorder(t, (_request, response) =>
    response.writeHead(307, { location: `${target.url}/internal/admin` }).end()
  )
  const withPath = await registerFilm({
    custodian,
    creator,
    contractAddress: devnet.contractAddress,
    custodianUrl: `${pathHost.url}/internal/admin?do=reboot`
  })
  const redirecting = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, custodianUrl: redirector.url })
  for (const film of [withPath, redirecting]) await buyFilm(owner, devnet.contractAddress, film.tokenId)

  const records = section<FilmRecord>(box.db, 'films')
  for (const film of [withPath, redirecting]) {
    const failed = await waitFor(`film ${film.tokenId} to fail`, async () => {
      const record = await records.get(film.tokenId)
      return record?.state === 'error' && record
    })
    t.comment(`film ${film.tokenId}: ${failed.error}`)
  }
  t.same(pathHost.requests, [], 'the host behind a custodian URL with a path was sent nothing')
  t.ok(redirector.requests.length > 0, 'the custodian URL without a path was asked')
  t.same(target.requests, [], 'its redirect was never followed')
})
