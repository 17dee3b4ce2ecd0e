// Node's module compile cache (V8 code cache) for the daemon, kept in its data directory. A start loads
// about 2 800 modules (helia alone imports every libp2p default it does not use: WebRTC, AutoTLS, UPnP),
// and compiling them was a quarter of the CPU a start takes (bench/cold-start.ts: 2.07 → 1.58 CPU s to
// READY=1). Not in the temp dir: the unit's PrivateTmp starts each run with an empty one. Node writes
// the cache as the process exits (a stop, not a power cut), not after the start: writing some 2 500
// entries at once held the event loop for seconds right after READY=1.
import module from 'node:module'
import { mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { VERSION } from '../lib/version.ts'

const CACHE_DIR = 'compile-cache'

/**
 * Enables the cache in dataDir/compile-cache/<release>, removing other releases' caches (their code
 * paths are gone after an update). NODE_COMPILE_CACHE, when set, is left to choose. The cache is an
 * optimisation only: when it cannot be used the start goes on without it.
 */
export async function enableCompileCache(dataDir: string): Promise<void> {
  if (process.env.NODE_COMPILE_CACHE !== undefined) return
  const root = path.join(dataDir, CACHE_DIR)
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    for (const entry of await readdir(root).catch(() => [])) {
      if (entry !== VERSION) await rm(path.join(root, entry), { recursive: true, force: true })
    }
    module.enableCompileCache(path.join(root, VERSION))
  } catch {
    // without the cache: startDaemon reports a data directory it cannot use
  }
}
