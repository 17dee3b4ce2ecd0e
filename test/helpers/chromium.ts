import { mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { getBytes, type Wallet } from 'ethers'
import { chromium, type Browser, type Page } from 'playwright-core'
import { buildUiIfChanged } from '../../server/ui/build-ui.ts'

const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
  // HTMLMediaElement.audioTracks, as TV browsers (webOS, Tizen) have it: the player's audio menu reads it
  '--enable-blink-features=AudioVideoTracks'
]

/** Screenshots land here (gitignored) so a person can look at what a test saw. */
const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

/**
 * The system Chromium, headless, with a fresh profile (playwright makes a new user-data-dir per launch).
 * The pages it will load are built from the sources as they are: `npm test` builds them before tap runs,
 * and a test file run alone builds them here when they changed.
 */
export async function launchChromium(): Promise<Browser> {
  await buildUiIfChanged()
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs })
}

/** A page in its own context (its own cookies) sized like a TV screen (1920x1080 unless told otherwise). */
export async function newTvPage(browser: Browser, viewport = { width: 1920, height: 1080 }): Promise<Page> {
  const context = await browser.newContext({ viewport })
  return context.newPage()
}

/**
 * The messages of the script errors `page` has thrown since this call, as they happen, and of whatever
 * the box's Content-Security-Policy blocked (a style, script or image the pages need must be allowed).
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', error => errors.push(error.message))
  page.on('console', message => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text())
  })
  return errors
}

/** Waits for the page's transitions to finish (not the endless ones, such as a spinner). */
async function transitionsDone(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const finite = document.getAnimations().filter(animation => animation.effect?.getComputedTiming().endTime !== Infinity)
    await Promise.all(finite.map(animation => animation.finished.catch(() => {})))
  })
}

/**
 * Saves a screenshot of the visible screen as test-artifacts/<name>.png and returns its path, once the
 * screen's transitions have finished (not the endless ones, such as a spinner).
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const path = await artifactPath(name, 'png')
  await transitionsDone(page)
  await page.screenshot({ path })
  return path
}

/** A text the viewer sees, too small to read from the sofa. */
export interface SmallText {
  text: string
  px: number
  selector: string
}

/**
 * Visible texts set smaller than `minPx` (each element's own text, not its children's). The 10-foot rule
 * is 24 px at 1920×1080 (issue 17), the same share of the height on a smaller screen.
 */
export async function textsSmallerThan(page: Page, minPx: number): Promise<SmallText[]> {
  return await page.evaluate(minPx => {
    const small: Array<{ text: string; px: number; selector: string }> = []
    for (const element of Array.from(document.body.querySelectorAll<HTMLElement>('*'))) {
      const own = Array.from(element.childNodes)
        .filter(node => node.nodeType === Node.TEXT_NODE)
        .map(node => node.textContent ?? '')
        .join('')
        .replace(/\s+/g, ' ')
        .trim()
      if (own === '' || element.closest('.visually-hidden, [aria-hidden="true"], svg') !== null) continue
      const rect = element.getBoundingClientRect()
      const style = getComputedStyle(element)
      if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' || Number(style.opacity) === 0) continue
      const px = parseFloat(style.fontSize)
      if (px < minPx - 0.01)
        small.push({
          text: own.slice(0, 60),
          px: Math.round(px * 10) / 10,
          selector: `${element.tagName.toLowerCase()}.${element.className}`
        })
    }
    return small
  }, minPx)
}

/** The path of test-artifacts/<name>.<extension>, its folder made. */
export async function artifactPath(name: string, extension: string): Promise<string> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`Artifact name "${name}" may only use letters, digits, '.', '_' and '-'`)
  await mkdir(artifactsDir, { recursive: true })
  return `${artifactsDir}${name}.${extension}`
}

/**
 * Presses a key the way many TV remotes send it: only a keyCode, with `key` "Unidentified" (what
 * webOS and Tizen do for Back and the media keys, and some remotes for the arrows).
 */
export async function pressKeyCode(page: Page, keyCode: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page)
  try {
    for (const type of ['rawKeyDown', 'keyUp'] as const) {
      await cdp.send('Input.dispatchKeyEvent', { type, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, key: 'Unidentified' })
    }
  } finally {
    await cdp.detach()
  }
}

/** The focused element in a few words (for assertions that say what they saw): tag, focus key, text. */
export async function describeFocus(page: Page): Promise<{ tag: string; focusKey: string | null; text: string; className: string }> {
  return await page.evaluate(() => {
    const active = document.activeElement as HTMLElement | null
    return {
      tag: active?.tagName.toLowerCase() ?? '',
      focusKey: active?.dataset.focusKey ?? null,
      text: (active?.textContent ?? '').replace(/\s+/g, ' ').trim(),
      className: typeof active?.className === 'string' ? active.className : ''
    }
  })
}

/**
 * Waits until the focused element matches `selector` (focus follows a screen's render by a frame,
 * so it is waited for rather than sampled).
 */
export async function waitForFocus(page: Page, selector: string, timeoutMs = 15_000): Promise<void> {
  await page.waitForFunction(selector => document.activeElement?.matches(selector) === true, selector, { timeout: timeoutMs })
}

/**
 * Gives the page an injected EIP-1193 wallet (window.ethereum) backed by `wallet`, as a browser wallet
 * extension would: eth_requestAccounts shares its address, personal_sign signs the hex of the message.
 */
export async function injectWallet(page: Page, wallet: Wallet): Promise<void> {
  await page.exposeFunction('__seedOneTestWallet', async (method: string, params: unknown[]) => {
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [wallet.address]
    if (method === 'personal_sign') {
      const [message, address] = params as [string, string]
      if (address.toLowerCase() !== wallet.address.toLowerCase()) throw new Error(`personal_sign for ${address}, not this wallet`)
      return await wallet.signMessage(getBytes(message))
    }
    throw new Error(`the test wallet does not do ${method}`)
  })
  await page.addInitScript(() => {
    const call = (window as unknown as { __seedOneTestWallet: (method: string, params: unknown[]) => Promise<unknown> }).__seedOneTestWallet
    ;(window as unknown as { ethereum: unknown }).ethereum = {
      request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? [])
    }
  })
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation {
  id: string
  impact: string
  help: string
  targets: string[]
}

/** Runs axe-core on the page once its transitions are done and returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await transitionsDone(page)
  // evaluated by the DevTools protocol, not added as an inline script the box's CSP rightly blocks
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await axeSource)
  return await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: any[] }> } }).axe
    const { violations } = await axe.run(document, { resultTypes: ['violations'] })
    return violations
      .filter(violation => violation.impact === 'serious' || violation.impact === 'critical')
      .map(violation => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map((node: { target: string[] }) => node.target.join(' '))
      }))
  })
}

/**
 * Gives the page's browser the session cookie of a screen signed in to the box at `boxUrl` (from
 * signedInCookie in owner-session.ts), as a TV holds it once its pairing code is signed: it may then list
 * and play the owner's films.
 */
export async function signInTv(page: Page, boxUrl: string, session: { cookie: string }): Promise<void> {
  const cookies = session.cookie.split('; ').map(pair => {
    const at = pair.indexOf('=')
    return { name: pair.slice(0, at), value: pair.slice(at + 1), url: boxUrl, httpOnly: true, sameSite: 'Strict' as const }
  })
  await page.context().addCookies(cookies)
}
