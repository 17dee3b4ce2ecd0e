// A publish that fails after it added the film to Helia (issue 17): where nothing can be resumed (a
// registration the chain refuses) it unpins and collects what it added and registers nothing; where the
// chain may still register it (lost mid-way) it keeps the sealed film, and rerunning resumes it.
import t from 'tap'
import path from 'node:path'
import { JsonRpcProvider, Wallet } from 'ethers'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { publishIntents } from '../server/publish/publish-intent.ts'
import { blockFiles, pinnedRoots } from './helpers/blocks.ts'
import { connectDevnet, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { startRpcProxy } from './helpers/rpc-proxy.ts'

const devnet = await startTestDevnet(t)
const { creator: filmToken } = connectDevnet(t, devnet)
const filmCount = async (): Promise<number> => Number(await filmToken.getFunction('filmCount')())
const clip = await generateDemoClip(path.join(t.testdir(), 'clip'), { seconds: 4 })

t.test('a refused registration', async t => {
  // after the film was added: it leaves nothing pinned and nothing registered
  const custodianDir = testDir(t, 'custodian')
  const custodian = await startTestDaemon(t, daemonConfig(devnet, custodianDir, ['custodian']))
  const pinsBefore = await pinnedRoots(custodian.helia)
  const blocksBefore = await blockFiles(custodianDir)
  const before = await filmCount()
  // the creator role revoked between publish's checks and its registration, as it were: the owner signs
  const notACreator = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
  const steps: string[] = []
  await t.rejects(
    publishFilm(
      daemonPublishContext(custodian, notACreator, step => steps.push(step)),
      { input: clip.video, title: 'Refused' }
    ),
    /nothing was registered, and what this publish added to the data directory is removed/
  )
  t.ok(steps.includes('seal') && steps.includes('register'), 'it failed after sealing and adding, at the registration')
  t.same(await pinnedRoots(custodian.helia), pinsBefore, 'no pin left')
  t.equal(await blockFiles(custodianDir), blocksBefore, 'its blocks collected')
  t.equal(await filmCount(), before, 'nothing registered')
  t.same(await publishIntents(custodian.db).entries(), [], 'no intent left to resume')
})

t.test('a chain lost at registration', async t => {
  // the sealed film is kept, and the rerun resumes it
  const custodianDir = testDir(t, 'custodian')
  const custodian = await startTestDaemon(t, daemonConfig(devnet, custodianDir, ['custodian']))
  const proxy = await startRpcProxy(t, devnet.rpcUrl)
  const provider = new JsonRpcProvider(proxy.url, devnet.chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 20 })
  t.teardown(() => provider.destroy())
  const creator = new Wallet(devnet.accounts.creator.privateKey, provider)
  const request = { input: clip.video, title: 'Resumed' }
  const before = await filmCount()
  await proxy.setMode('down')
  const first: string[] = []
  await t.rejects(
    publishFilm(
      daemonPublishContext(custodian, creator, step => first.push(step)),
      request
    ),
    /the sealed film is kept, and rerunning the same command resumes at its registration/
  )
  t.ok(first.includes('seal'), 'the first run sealed and added the film')
  const kept = await pinnedRoots(custodian.helia)
  t.ok(kept.length > 0, 'its pins are kept for the rerun')
  await proxy.setMode('pass')
  const again: string[] = []
  const film = await publishFilm(
    daemonPublishContext(custodian, creator, step => again.push(step)),
    request
  )
  t.notOk(again.includes('seal'), 'the rerun did not seal again')
  t.equal(Number(film.tokenId), before + 1, 'registered once')
  t.same(await pinnedRoots(custodian.helia), kept, 'on the pins the first run made')
})
