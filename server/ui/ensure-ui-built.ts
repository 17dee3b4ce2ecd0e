// A checkout builds its pages when their sources changed; a release ships them prebuilt (and has no build
// tools: they are devDependencies) without their sources, so there it only needs the build to be there.
import { access } from 'node:fs/promises'
import path from 'node:path'
import { UI_BUILD_DIR, UI_SOURCE_DIR, readBuildInfo, uiBuildIsCurrent } from './ui-sources.ts'

const hasUiSources = (): Promise<boolean> =>
  access(path.join(UI_SOURCE_DIR, 'app.js')).then(
    () => true,
    () => false
  )

export async function ensureUiBuilt(say: (line: string) => void): Promise<void> {
  if (!(await hasUiSources())) {
    if ((await readBuildInfo()) === undefined) throw new Error(`${UI_BUILD_DIR} is missing from this release: reinstall it`)
    return
  }
  if (await uiBuildIsCurrent()) return
  let buildUi: () => Promise<unknown>
  try {
    ;({ buildUi } = await import('./build-ui.ts'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
    throw new Error(
      `${UI_BUILD_DIR} is missing or older than the UI's sources, and the build tools are not installed: run \`npm ci && npm run build:ui\``
    )
  }
  say('Building the UI for the TV floor (ui/build)…')
  await buildUi()
}
