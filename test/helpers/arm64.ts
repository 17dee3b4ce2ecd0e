// arm64 under emulation: the Node the image installs (firmware-image/inputs.env), unpacked by
// `scripts/setup.sh --tests` into .cache/, run by Debian's qemu-aarch64-static with Debian's arm64 libraries.
// Processes it starts itself (the updater running a slot's CLI) reach qemu through binfmt_misc, which
// finds the same libraries through QEMU_LD_PREFIX.
import { access, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { CliCommand } from './daemon-process.ts'

const checkout = fileURLToPath(new URL('../../', import.meta.url))
const QEMU = '/usr/bin/qemu-aarch64-static'
/** Where Debian's libc6-arm64-cross and libstdc++6-arm64-cross put the arm64 loader and libraries. */
const SYSROOT = '/usr/aarch64-linux-gnu'

/** The image's pinned Node package and version, as the image build reads them. */
async function imageNode(): Promise<{ name: string; version: string }> {
  const inputs = await readFile(`${checkout}firmware-image/inputs.env`, 'utf8')
  const value = (key: string): string => {
    const found = new RegExp(`^${key}=(\\S+)$`, 'm').exec(inputs)?.[1]
    if (found === undefined) throw new Error(`firmware-image/inputs.env has no ${key}`)
    return found
  }
  return { name: value('NODE_PACKAGE'), version: value('NODE_VERSION') }
}

/**
 * The command that runs the image's arm64 Node under qemu, and the environment its own child processes
 * need; a clear error when setup has not installed or registered it.
 */
export async function arm64Node(): Promise<{ command: CliCommand; env: NodeJS.ProcessEnv; version: string }> {
  const { name, version } = await imageNode()
  const node = `${checkout}.cache/${name}-${version}/bin/node`
  for (const [file, what] of [
    [QEMU, 'qemu-user-static'],
    [`${SYSROOT}/lib/libstdc++.so.6`, 'the arm64 C and C++ libraries'],
    [node, `${name}@${version}`],
    ['/proc/sys/fs/binfmt_misc/qemu-aarch64', 'qemu-aarch64 registered with binfmt_misc']
  ]) {
    await access(file).catch(() => {
      throw new Error(`${file} is missing (${what}): run \`bash scripts/setup.sh --tests\``)
    })
  }
  return { command: [QEMU, '-L', SYSROOT, node], env: { QEMU_LD_PREFIX: SYSROOT }, version }
}

/** The files a process has mapped (under qemu-user, the arm64 program's own: its Node and native modules). */
export async function mappedFiles(pid: number): Promise<string[]> {
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8')
  return [...new Set(maps.split('\n').flatMap(line => /\s(\/\S.*)$/.exec(line)?.[1] ?? []))]
}
