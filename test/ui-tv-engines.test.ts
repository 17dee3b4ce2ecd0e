// The TV UI in the browser engines TVs in homes run (Chromium 68: LG webOS 5, close to Tizen 5.5;
// Chromium 88: just above webOS 22 and Tizen 6.5), headless builds from npm driven through the
// DevTools protocol, against one real box, with the remote's keys only: pairing shows its code and
// QR code, the library its cards, arrows move focus, Enter opens the film and its player (whose
// <video> has the rendition the engine says it decodes, and plays it; an engine that decodes none is
// told so), Back returns, settings render and save a change, health renders; the phone's pairing page
// and the fleet dashboard render too; and no script error. The first engine finds the box unpaired;
// the second is a further TV, unsigned, that signs in. Screenshots of each engine's screens go to
// test-artifacts/tv-engine-<engine>-<screen>.png.
import t from 'tap'
import path from 'node:path'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { REPORTS_PATH } from '../server/wire/monitor-protocol.ts'
import { DevToolsTab } from './helpers/devtools.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { getJson, postJson } from './helpers/http.ts'
import { testDir, type Test } from './helpers/in-process.ts'
import { healthReport, startTestMonitor } from './helpers/monitor.ts'
import { startIdentityBox } from './helpers/peers.ts'
import { launchEngine, TV_ENGINES, type TvEngine } from './helpers/tv-engines.ts'
import { pairingCodeOnScreen, signCodeAsOwner } from './helpers/tv-sign-in.ts'
import { publishClip, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'
import { makeWebmClip } from './helpers/webm-clip.ts'

const world = await startTvWorld(t)
const { box } = world
const clip = await publishClip(t, world, { title: 'Pattern', seconds: 20 })
// a second film, so the library has two cards for the arrows to move between: VP9/Opus in WebM, which an
// engine built without H.264 still plays
const other = await registerFilm({
  custodian: world.custodian,
  creator: world.creator,
  contractAddress: world.devnet.contractAddress,
  video: {
    bytes: await makeWebmClip(path.join(testDir(t, 'webm'), 'pattern.webm'), { seconds: 30, width: 320, height: 180 }),
    mimeType: 'video/webm',
    durationSeconds: 30
  }
})
await buyFilm(world.owner, world.devnet.contractAddress, other.tokenId)
// the network's monitor, with one node that has reported, for its fleet dashboard
const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
const reporter = await loadOrCreateDeviceIdentity(testDir(t, 'reporting-node'))
// the monitor lists a node once its apiUrl answered for its key
const reporterBox = await startIdentityBox(t, reporter)
const reported = await postJson(
  `${monitor.url}${REPORTS_PATH}`,
  await signPayload(reporter, healthReport(reporter, 1, { apiUrl: reporterBox.url }))
)
if (reported.status !== 201) throw new Error(`the monitor refused the report: ${reported.status} ${reported.body}`)

async function driveTv(t: Test, engine: TvEngine, boxPaired: boolean): Promise<void> {
  const browser = await launchEngine(engine)
  t.teardown(() => browser.close())
  const tv = await DevToolsTab.open(browser.devtoolsUrl)
  t.teardown(() => tv.close())
  await tv.setScreen()
  const canPlay = (type: string) => tv.evaluate<string>(`document.createElement("video").canPlayType(${JSON.stringify(type)})`)
  const h264 = await canPlay('video/mp4; codecs="avc1.42E01E, mp4a.40.2"')
  t.comment(`${browser.version}: canPlayType H.264/AAC MP4 "${h264}", VP9/Opus WebM "${await canPlay('video/webm; codecs="vp9, opus"')}"`)
  // the sources <video> elements start loading, kept by the test: the player replaces a video that fails
  await tv.addInitScript(
    'window.videoSources = []; document.addEventListener("loadstart", function (e) { window.videoSources.push(e.target.currentSrc) }, true)'
  )
  const shot = (screen: string) => tv.screenshot(`tv-engine-${engine.name}-${screen}`)

  await tv.navigate(`${box.url}/`)
  await tv.waitFor(
    'the UI to render a screen',
    'document.querySelector("[data-screen]") && document.querySelector("[data-screen]").getAttribute("data-screen") !== "loading"'
  )
  t.pass('the UI renders')

  if (boxPaired) {
    // a further TV, not signed in, is offered only Sign in: the owner signs its own code
    await tv.waitForFocus('[data-focus-key="sign-in"]')
    await tv.press('Enter')
  }
  const code = await pairingCodeOnScreen(tv)
  t.match(code, /^[A-Z0-9]{8}$/, 'pairing shows an 8-character code and the QR code')
  await shot('pairing')
  await signCodeAsOwner(box.url, world.owner, code)

  await tv.waitForFocus('[data-screen="home"] .card')
  await tv.waitFor(
    'the film cards',
    `document.querySelector('.card-ready[data-token-id="${clip}"]') && document.querySelector('.card[data-token-id="${other.tokenId}"]')`,
    120_000
  )
  t.pass('signed in, the library shows both films as cards')
  await shot('home')

  // titles sort: the hand-made film's card comes first, the clip's second
  await tv.press('ArrowLeft')
  t.equal(await tv.focusKey(), `film:${other.tokenId}`, 'ArrowLeft reaches the first card')
  await tv.press('ArrowRight')
  t.equal(await tv.focusKey(), `film:${clip}`, 'ArrowRight moves focus to the next card')

  await tv.press('Enter')
  await tv.waitForFocus('[data-focus-key="play"]')
  t.equal(await tv.evaluate('document.querySelector(".film-title").textContent'), 'Pattern', 'Enter opens the film, Play focused')
  await shot('film')

  await tv.press('Enter')
  let played = clip
  if (h264 === '') {
    // this build has no H.264 (TVs' own builds have it): the player asks the engine, which decodes none
    // of the film's renditions, and says so, with a way back
    await tv.waitForFocus('.state .button-primary')
    t.equal(
      await tv.evaluate('document.querySelector(".state-title").textContent'),
      'This film could not be played',
      'no H.264 in this build: the player says the film cannot be played here'
    )
    t.same(await tv.evaluate('window.videoSources'), [], 'and asks the box for no stream')
    await shot('player-no-h264')
    await tv.press('Back')
    await tv.waitForFocus('[data-focus-key="play"]')
    await tv.press('Back')
    await tv.moveFocusTo('ArrowLeft', `film:${other.tokenId}`)
    await tv.press('Enter')
    await tv.waitForFocus('[data-focus-key="play"]')
    await tv.press('Enter')
    played = other.tokenId
    t.match(
      await tv.waitFor('the <video> to load a source', 'window.videoSources[0]'),
      `${box.url}/api/films/${other.tokenId}/stream`,
      'a film without renditions: its <video> on the box stream'
    )
  } else {
    t.match(
      await tv.waitFor('the <video> to load a source', 'window.videoSources[0]'),
      `${box.url}/api/films/${clip}/renditions/sdr/stream`,
      'Enter opens the player, its <video> on the rendition the engine decodes'
    )
  }
  await tv.waitForFocus('.seekbar')
  await tv.waitFor('decoded frames', 'document.querySelector("video").readyState >= 2 && document.querySelector("video").currentTime > 0')
  t.pass(`the ${played === clip ? 'H.264/AAC MP4 clip' : 'VP9/Opus WebM film'} plays, the seek bar focused`)
  await shot('player')

  await tv.press('Back')
  await tv.waitForFocus('[data-focus-key="play"]')
  await tv.press('Back')
  await tv.waitForFocus(`[data-focus-key="film:${played}"]`)
  t.pass('Back leaves the player, then the film, for the card it was opened from')

  await tv.press('ArrowUp')
  await tv.moveFocusTo('ArrowRight', 'settings')
  await tv.press('Enter')
  await tv.waitForFocus('[data-focus-key="replication"]')
  t.match(
    await tv.evaluate('document.querySelector(".facts-table").textContent'),
    "Paired with the owner's wallet",
    'settings render, naming the owner'
  )
  await shot('settings')
  // an owner's change from this engine: a PUT with the session cookie and the CSRF header
  const quota = async () => (await getJson(`${box.url}/api/settings`)).storageQuotaBytes as number
  const quotaBefore = await quota()
  await tv.press('ArrowDown')
  t.equal(await tv.focusKey(), 'quota')
  await tv.press('ArrowRight')
  await waitFor('the box to hold the next quota step', async () => (await quota()) > quotaBefore, { timeoutMs: 10_000 })
  t.pass('→ on the quota saved the next step on the box')
  await tv.press('Back')
  await tv.waitForFocus('[data-focus-key="settings"]')

  await tv.press('ArrowLeft')
  await tv.press('Enter')
  await tv.waitForFocus('[data-focus-key="temperature"]')
  t.equal(await tv.evaluate('document.querySelectorAll(".metric .chart-line").length > 0'), true, 'health renders its charts')
  await shot('health')
  await tv.press('Back')
  await tv.waitForFocus('[data-focus-key="health"]')

  // the phone's pairing page is built for the same floor
  await tv.navigate(`${box.url}/pair?code=${code}`)
  await tv.waitFor(
    'the pairing page with the code',
    `document.querySelector("#code") && document.querySelector("#code").value === "${code}"`
  )
  t.match(
    await tv.evaluate('document.body.textContent'),
    'No wallet was found in this browser',
    'the pairing page renders, offering to sign by hand'
  )
  await shot('pair-page')

  // and so is the fleet dashboard
  await tv.navigate(`${monitor.url}/`)
  await tv.waitFor("the dashboard's node row", `document.querySelector('table.nodes [title="${reporter.deviceId}"]')`)
  t.pass('the fleet dashboard renders its node')
  await shot('dashboard')

  t.same(tv.errors, [], 'no script errors')
}

// one engine after the other on one box: the first pairs it, the second signs in beside it
for (const [index, engine] of TV_ENGINES.entries()) {
  await t.test(`${engine.name} (${engine.shippedIn}), keys only`, t => driveTv(t, engine, index > 0))
}
