import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required'
]

/** Screenshots land here (gitignored) so a person can look at what a test saw. */
const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

/** The system Chromium, headless, with a fresh profile (playwright makes a new user-data-dir per launch). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs })
}

/** A page in its own context sized like a TV screen (1920x1080 unless told otherwise). */
export async function newTvPage(browser: Browser, viewport = { width: 1920, height: 1080 }): Promise<Page> {
  const context = await browser.newContext({ viewport })
  return context.newPage()
}

/** Saves a screenshot of the visible screen as test-artifacts/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`Screenshot name "${name}" may only use letters, digits, '.', '_' and '-'`)
  await mkdir(artifactsDir, { recursive: true })
  const path = `${artifactsDir}${name}.png`
  await page.screenshot({ path })
  return path
}
