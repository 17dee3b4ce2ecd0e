// The state sections are typed by StateSchema (server/storage/state-db.ts), and the types are only a
// view: what lands on disk is the same section name, key and JSON value as before they were typed, so
// the data directories of boxes in the field read back unchanged. `tsc -p tsconfig.json` (npm test)
// also checks the @ts-expect-error lines below: each must be a compile error, or tsc fails.
import t from 'tap'
import { openStateDb, section, type StateDb } from '../server/storage/state-db.ts'
import type { WatcherState } from '../server/chain/watcher.ts'
import { testDir } from './helpers/in-process.ts'

const raw = (db: StateDb, name: string) => db.sublevel<string, unknown>(name, { valueEncoding: 'json' })

t.test('a typed section writes the layout older releases wrote', async t => {
  const db = await openStateDb(testDir(t, 'data'))
  t.teardown(() => db.close())
  const watcher: WatcherState = { lastBlock: 7, holdings: { '1': { quantity: '2', tier: 0, metadataUri: 'ipfs://x' } } }
  const chain = section(db, 'chain')
  await chain.put('chainId', 31337)
  await chain.put('watcher:0xabc', watcher)
  await section(db, 'replication').put('replicas', ['bafy1', 'bafy2'])

  t.same(
    await raw(db, 'chain').iterator().all(),
    [
      ['chainId', 31337],
      ['watcher:0xabc', watcher]
    ],
    'the chain id and the watcher state share the chain section under their old keys'
  )
  t.same(await raw(db, 'replication').get('replicas'), ['bafy1', 'bafy2'], 'the replica list is plain JSON under replicas')
  await raw(db, 'replication').put('registry', { fetchedAt: '2026-12-07T05:00:00.000Z', nodes: [] })
  t.same(
    await section(db, 'replication').get('registry'),
    { fetchedAt: '2026-12-07T05:00:00.000Z', nodes: [] },
    'what an older release wrote reads back as it is'
  )
})

/** Never called: only compiled. Each line after @ts-expect-error is a read or write the schema refuses. */
export async function wrongReads(db: StateDb): Promise<void> {
  // @ts-expect-error a misspelt section
  section(db, 'chian')
  // @ts-expect-error a caller no longer picks the value type: the section says it
  section<WatcherState>(db, 'chain')
  const chain = section(db, 'chain')
  // @ts-expect-error a misspelt key
  await chain.get('chainID')
  // @ts-expect-error the chain id is a number, not a watcher's state
  const state: WatcherState | undefined = await chain.get('chainId')
  // @ts-expect-error a watcher's state is not a number
  await chain.put('watcher:0xabc', 31337)
  // @ts-expect-error the replica list is strings, not a registry snapshot
  const snapshot: { nodes: unknown[] } | undefined = await section(db, 'replication').get('replicas')
  void state
  void snapshot
}
