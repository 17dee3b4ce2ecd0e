// The TV app's page (webOS and Tizen alike): finds the owner's Seed One on the home network and opens its UI
// full screen, whose pages then own the remote's keys (ui/focus.js). In order: the address typed once on the
// remote (kept in localStorage), the names home routers give a DHCP client (`seedone`, `.lan`, `.home`), the
// boxes the network's monitor saw report from this home's public address (`/api/discover`); else it asks for
// the address, and offers the monitor's discovery page itself (its links need no script to read). A plain script for the TV floor (Chromium 68): ES2017, no modules, nothing built.
;(function () {
  'use strict'

  /** Written by the build (server/tv-apps/build-tv-apps.ts): { names: string[], monitorUrl: string }. */
  var config = window.SEED_ONE_TV_CONFIG || { names: [], monitorUrl: '' }
  var STORAGE_KEY = 'seedOne.boxAddress'
  /** How long a name or address may take to answer before the next one is tried. */
  var PROBE_TIMEOUT_MS = 3000
  /** What the remote's media keys are called in Tizen's TVInputDevice API (webOS delivers them unasked). */
  var TIZEN_MEDIA_KEYS = [
    'MediaPlay',
    'MediaPause',
    'MediaPlayPause',
    'MediaStop',
    'MediaFastForward',
    'MediaRewind',
    'ChannelUp',
    'ChannelDown',
    'MediaTrackNext',
    'MediaTrackPrevious'
  ]
  var KEY = { up: 38, down: 40, webOsBack: 461, tizenBack: 10009 }

  // index.html holds each of these
  var statusLine = /** @type {HTMLElement} */ (document.getElementById('status'))
  var form = /** @type {HTMLFormElement} */ (document.getElementById('address-form'))
  var addressInput = /** @type {HTMLInputElement} */ (document.getElementById('address'))
  var searchAgain = /** @type {HTMLButtonElement} */ (document.getElementById('search-again'))
  var monitorList = /** @type {HTMLButtonElement} */ (document.getElementById('monitor-list'))

  /**
   * Tests (and a person trying the page in a desktop browser) may give the names to try and the monitor in
   * the query: `?candidates=http://a/,http://b/&monitor=http://m`. The TV launches the page without one.
   */
  function settings() {
    var query = new URLSearchParams(location.search)
    var candidates = query.get('candidates')
    var monitor = query.get('monitor')
    return {
      names: candidates !== null ? candidates.split(',').filter(Boolean) : config.names,
      monitorUrl: monitor !== null ? monitor : config.monitorUrl
    }
  }

  /**
   * `192.168.1.20:8080`, `seedone.lan`, `http://x/` → an http(s) origin URL ending in '/', or null.
   * @param {string | null} text
   * @returns {string | null}
   */
  function normaliseAddress(text) {
    var trimmed = String(text || '').trim()
    if (trimmed === '') return null
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) trimmed = 'http://' + trimmed
    try {
      var url = new URL(trimmed)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
      return url.origin + '/'
    } catch (error) {
      return null
    }
  }

  /**
   * @template T
   * @param {Promise<T>} promise
   * @param {number} ms
   * @returns {Promise<T>}
   */
  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        reject(new Error('no answer in ' + ms + ' ms'))
      }, ms)
      promise.then(
        function (value) {
          clearTimeout(timer)
          resolve(value)
        },
        function (error) {
          clearTimeout(timer)
          reject(error)
        }
      )
    })
  }

  /**
   * Whether a Seed One answers at `base`: its public `/api/status` names a device. The box sends no CORS
   * header, so the status is read only where the page may read across origins (as the manifests ask of the
   * TV platforms, and as the tests' stand-in box allows); where it may not, any answer at the address counts,
   * since the names and addresses tried come from the home's router, its monitor or the owner.
   * @param {string} base
   */
  async function isSeedOne(base) {
    try {
      var answer = await withTimeout(fetch(base + 'api/status', { cache: 'no-store', credentials: 'omit' }), PROBE_TIMEOUT_MS)
      if (!answer.ok) return false
      var status = await answer.json()
      return typeof status.deviceId === 'string' && typeof status.version === 'string'
    } catch (error) {
      if (error instanceof SyntaxError) return false // something answered, but not a Seed One's JSON
    }
    try {
      await withTimeout(fetch(base + 'api/status', { mode: 'no-cors', cache: 'no-store', credentials: 'omit' }), PROBE_TIMEOUT_MS)
      return true
    } catch (error) {
      return false
    }
  }

  /**
   * The first of `addresses`, in their order, at which a Seed One answers (all asked at once), or null.
   * @param {string[]} addresses
   */
  async function firstSeedOne(addresses) {
    var bases = /** @type {string[]} */ (addresses.map(normaliseAddress).filter(Boolean))
    var answers = await Promise.all(bases.map(isSeedOne))
    for (var i = 0; i < bases.length; i++) if (answers[i]) return bases[i]
    return null
  }

  /**
   * The LAN addresses of the boxes the monitor saw report from this home's public address: `urls` of each of
   * `{ boxes: [{ urls: string[], ... }] }`. Nothing when the page may not read the monitor's answer.
   * @param {string} monitorUrl
   * @returns {Promise<string[]>}
   */
  async function discoveredAddresses(monitorUrl) {
    if (!monitorUrl) return []
    try {
      var answer = await withTimeout(fetch(monitorUrl.replace(/\/+$/, '') + '/api/discover', { cache: 'no-store' }), PROBE_TIMEOUT_MS)
      if (!answer.ok) return []
      var body = await answer.json()
      var boxes = body && Array.isArray(body.boxes) ? body.boxes : []
      /** @type {string[]} */
      var urls = []
      boxes.forEach(function (/** @type {{ urls?: unknown }} */ box) {
        if (box && Array.isArray(box.urls)) urls = urls.concat(box.urls.filter(url => typeof url === 'string'))
      })
      return urls
    } catch (error) {
      return []
    }
  }

  /** The box's UI in place of this page (replace: Back from the UI's home must not land here again). @param {string} base */
  function openBox(base) {
    statusLine.textContent = 'Opening ' + base + '…'
    location.replace(base)
  }

  /** @param {string} message */
  function askForAddress(message) {
    statusLine.textContent = message
    form.hidden = false
    monitorList.hidden = !settings().monitorUrl
    addressInput.focus()
  }

  async function search() {
    form.hidden = true
    statusLine.textContent = 'Looking for your Seed One…'
    var found = settings()
    var typed = localStorage.getItem(STORAGE_KEY)
    var base =
      (typed && (await firstSeedOne([typed]))) ||
      (await firstSeedOne(found.names)) ||
      (await firstSeedOne(await discoveredAddresses(found.monitorUrl)))
    if (base) return openBox(base)
    addressInput.value = typed || ''
    askForAddress('No Seed One answered on this network. Type its address with the remote, once.')
  }

  /** @param {SubmitEvent} event */
  async function connectTyped(event) {
    event.preventDefault()
    var base = normaliseAddress(addressInput.value)
    if (!base) {
      askForAddress('"' + addressInput.value + '" is not an address. Type it as the box shows it, e.g. 192.168.1.20:8080.')
      return
    }
    statusLine.textContent = 'Trying ' + base + '…'
    if (await isSeedOne(base)) {
      localStorage.setItem(STORAGE_KEY, base)
      openBox(base)
    } else {
      askForAddress('No Seed One answered at ' + base + '. Check the address and that the box is on.')
    }
  }

  /** Up and down move between the field and the buttons; Back leaves the app. @param {KeyboardEvent} event */
  function onKey(event) {
    var connect = /** @type {HTMLButtonElement} */ (document.getElementById('connect'))
    var controls = /** @type {HTMLElement[]} */ ([addressInput, connect, searchAgain, monitorList]).filter(control => !control.hidden)
    var at = controls.indexOf(/** @type {HTMLElement} */ (document.activeElement))
    if (event.keyCode === KEY.down || event.keyCode === KEY.up) {
      var next = controls[Math.max(0, Math.min(controls.length - 1, at + (event.keyCode === KEY.down ? 1 : -1)))]
      next.focus()
      event.preventDefault()
    } else if (event.keyCode === KEY.tizenBack && window.tizen) {
      window.tizen.application.getCurrentApplication().exit()
    } else if (event.keyCode === KEY.webOsBack) {
      window.close()
    }
  }

  /**
   * Tizen delivers the media keys to an app only once it registers them (config.xml holds the tv.inputdevice
   * privilege). They are registered for the app, before the box's pages replace this one.
   */
  function registerTizenMediaKeys() {
    const input = window.tizen && window.tizen.tvinputdevice
    if (!input) return
    var supported = input.getSupportedKeys().map(key => key.name)
    TIZEN_MEDIA_KEYS.filter(name => supported.indexOf(name) !== -1).forEach(name => input.registerKey(name))
  }

  registerTizenMediaKeys()
  form.addEventListener('submit', connectTyped)
  searchAgain.addEventListener('click', search)
  monitorList.addEventListener('click', function () {
    location.href = settings().monitorUrl.replace(/\/+$/, '') + '/discover'
  })
  document.addEventListener('keydown', onKey)
  search()
})()
