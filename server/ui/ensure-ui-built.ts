// A checkout builds its pages when their sources changed; a release ships them prebuilt (and has no build
// tools: they are devDependencies), so there the check only confirms the build is the one of its sources.
import { UI_BUILD_DIR, uiBuildIsCurrent } from './ui-sources.ts'

export async function ensureUiBuilt(say: (line: string) => void): Promise<void> {
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
