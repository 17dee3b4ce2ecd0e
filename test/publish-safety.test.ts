// `seed-one publish` that cannot misfire (issue 17): it needs an explicit custodian's data directory,
// checks the input, the disk, the RPC, the contract and the creator before any probe or seal, leaving
// nothing on disk or on chain when it refuses; and while the custodian runs it hands it the job, whose
// film's key is then released at once. What a publish that fails later leaves: publish-cleanup.test.ts.
import t from 'tap'
import { access, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pairAsOwner } from '../server/demo.ts'
import { requestFilmKey } from '../server/keys/key-request.ts'
import { createPairingStore } from '../server/pairing/pairing-store.ts'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import type { PublishedFilm } from '../server/publish/publish-film.ts'
import { unwrapKey } from '../server/sealing/wrap.ts'
import { filmKeyContext } from '../server/wire/custodian-protocol.ts'
import { blockFiles, pinnedRoots } from './helpers/blocks.ts'
import { runCli, runCliToEnd } from './helpers/daemon-process.ts'
import { connectDevnet, devnetCliFlags, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm } from './helpers/films.ts'
import { daemonConfig, makeCustodianDataDir, startTestDaemon, testDir } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)
const { creator: filmToken } = connectDevnet(t, devnet)
const filmCount = async (): Promise<number> => Number(await filmToken.getFunction('filmCount')())
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const dir = t.testdir()
const clip = await generateDemoClip(path.join(dir, 'clip'), { seconds: 4 })

const printedFilm = (output: string): PublishedFilm =>
  JSON.parse(output.split('\n').find(line => line.startsWith('{"tokenId"')) as string) as PublishedFilm

// (short subtest names: a unix socket's path in their folders must stay under 108 bytes)
t.test('wrong input refused', async t => {
  const custodianDir = testDir(t, 'custodian')
  await makeCustodianDataDir(custodianDir)
  const notACustodian = testDir(t, 'not-a-custodian')
  const ownerKeyFile = testDir(t, 'owner.key')
  await writeFile(ownerKeyFile, `${devnet.accounts.owner.privateKey}\n`, { mode: 0o600 })
  const badKeyFile = testDir(t, 'bad.key')
  await writeFile(badKeyFile, 'creator=0x1234\n', { mode: 0o600 })
  // sparse: 8 TB on no disk, more than this machine has free
  const huge = testDir(t, 'huge.mp4')
  await writeFile(huge, '')
  await truncate(huge, 8e12)
  const before = await filmCount()
  const chain = devnetCliFlags(devnet)
  const publish = async (...args: string[]) => await runCliToEnd(['publish', clip.video, '--title', 'Misfire', ...args])
  const cases: Array<[string, () => Promise<{ code: number | null; output: string }>, RegExp]> = [
    [
      'no --data-dir',
      async () => await publish(...chain),
      /publish needs --data-dir \(or SEED_ONE_DATA_DIR\): the data directory of the custodian/
    ],
    [
      'a directory no custodian started on',
      async () => await publish('--data-dir', notACustodian, ...chain),
      /is not a custodian's data directory .*Give --data-dir the directory your custodian runs on, or start one there first: seed-one start --role custodian --data-dir/
    ],
    [
      'a chain that does not answer',
      async () => await publish('--data-dir', custodianDir, '--rpc-url', 'http://127.0.0.1:9', '--contract', devnet.contractAddress),
      /the chain at http:\/\/127\.0\.0\.1:9 did not answer .*check --rpc-url/
    ],
    [
      'an address with no contract',
      async () => await publish('--data-dir', custodianDir, '--rpc-url', devnet.rpcUrl, '--contract', devnet.accounts.owner.address),
      /there is no contract at 0x[0-9a-fA-F]{40} on the chain at .*check --contract/
    ],
    [
      'a key that is not a creator',
      async () => await publish('--data-dir', custodianDir, ...chain, '--creator-key-file', ownerKeyFile),
      /the key in --creator-key-file \(address 0x[0-9a-fA-F]{40}\) is not a creator on the contract .*CREATOR_ROLE/
    ],
    [
      'a key file that holds no key',
      async () => await publish('--data-dir', custodianDir, ...chain, '--creator-key-file', badKeyFile),
      /--creator-key-file .*bad\.key must hold one private key: 0x and 64 hex digits/
    ],
    [
      'a source larger than the disk',
      async () => await runCliToEnd(['publish', huge, '--title', 'Misfire', '--data-dir', custodianDir, ...chain]),
      /not enough disk: .* needs about .*free some/
    ],
    [
      'a source that is not there',
      async () => await runCliToEnd(['publish', testDir(t, 'none.mp4'), '--title', 'Misfire', '--data-dir', custodianDir, ...chain]),
      /cannot read .*none\.mp4: no such file/
    ]
  ]
  for (const [name, run, message] of cases) {
    const { code, output } = await run()
    t.equal(code, 1, `${name}: exits 1`)
    t.match(output, message, `${name}: says what to do`)
    t.notMatch(output, /^(probe|normalise|seal) +\d+%$/m, `${name}: refused before any probe or seal`)
  }
  t.equal(await filmCount(), before, 'nothing registered')
  t.equal(await blockFiles(custodianDir), 0, "nothing added to the custodian's blockstore")
  await t.rejects(access(notACustodian), { code: 'ENOENT' }, 'no directory made where no custodian runs')
})

t.test('while custodian runs', async t => {
  // publish hands it the job, and the film's key is released at once
  const custodianDir = testDir(t, 'c')
  const custodian = await startTestDaemon(t, daemonConfig(devnet, custodianDir, ['custodian']))
  const before = await filmCount()
  const output = await runCli([
    'publish',
    clip.video,
    '--title',
    'Through the custodian',
    '--price-wei',
    '1000',
    '--data-dir',
    custodianDir,
    ...devnetCliFlags(devnet)
  ])
  t.match(output, `handing the publish to the custodian running on ${custodianDir} (${custodian.url})`)
  t.match(output, /^seal +100%$/m, "the custodian's progress lines come back")
  const film = printedFilm(output)
  t.equal(Number(film.tokenId), before + 1)
  t.match(output, `what next:`)
  t.match(output, `seed-one buy ${film.tokenId} --rpc-url ${devnet.rpcUrl} --contract ${film.contract}`)
  t.match(output, 'storage nodes (seed-one start --role storage) replicate it')
  t.ok((await pinnedRoots(custodian.helia)).includes(film.metadataCid), "the film is pinned in the custodian's own Helia")

  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
  await pairAsOwner(box.url, owner)
  await buyFilm(owner, devnet.contractAddress, film.tokenId, 1000n)
  const pairing = await createPairingStore(box.db).authorisation()
  if (pairing === undefined) throw new Error('the box did not keep its pairing')
  const { wrappedKey } = await requestFilmKey({
    custodianUrl: custodian.url,
    identity: box.identity,
    authorisation: { message: pairing.message, signature: pairing.signature },
    chainId: devnet.chainId,
    contract: devnet.contractAddress,
    tokenId: film.tokenId
  })
  const context = filmKeyContext({ chainId: devnet.chainId, contract: devnet.contractAddress, ...film }, box.identity.deviceId)
  t.same(
    Buffer.from(unwrapKey(wrappedKey, box.identity.x25519PrivateKey, context)),
    Buffer.from((await custodian.custody?.get(film.contentCid)) as Uint8Array),
    "the running custodian released the new film's key to the owner's box, without a restart"
  )
})

t.test('a daemon without the custodian role', async t => {
  // a custodian's directory, run for now as a player alone: it holds the directory but takes no jobs
  const dataDir = testDir(t, 'p')
  await makeCustodianDataDir(dataDir)
  await startTestDaemon(t, daemonConfig(devnet, dataDir, ['player']))
  const before = await filmCount()
  const { code, output } = await runCliToEnd([
    'publish',
    clip.video,
    '--title',
    'Nowhere',
    '--data-dir',
    dataDir,
    ...devnetCliFlags(devnet)
  ])
  t.equal(code, 1)
  t.match(output, /a seed-one daemon holds .* but takes no publish jobs there: .*stop this one, or start it with --role custodian/)
  t.equal(await filmCount(), before, 'nothing registered')
})
