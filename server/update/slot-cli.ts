// Runs `seed-one <args>` from one slot's own code, with the Node running this updater. Only a slot's
// code knows its migrations, so moving the data version down for a rollback is the newer slot's job.
import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { RELEASE_CLI } from './server-build.ts'
import { UpdateError } from './update-error.ts'

const RUN_TIMEOUT_MS = 10 * 60_000

/**
 * `node <slotDir>/server/build/cli.js <args>` on `dataDir`. As root it runs as the data directory's owner, so
 * files it creates there stay the daemon's.
 */
export async function runSlotCli(slotDir: string, args: string[], dataDir: string): Promise<string> {
  const owner = await stat(dataDir).catch(() => undefined)
  const asOwner = process.getuid?.() === 0 && owner !== undefined && owner.uid !== 0 ? { uid: owner.uid, gid: owner.gid } : {}
  const cli = path.join(slotDir, RELEASE_CLI)
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args, '--data-dir', dataDir], { ...asOwner, timeout: RUN_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout)
      else reject(new UpdateError(`${cli} ${args.join(' ')} failed: ${(stderr || stdout).trim() || err.message}`))
    })
  })
}
