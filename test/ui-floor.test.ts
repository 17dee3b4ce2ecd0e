// The pages the box and the monitor serve use nothing above the floor in package.json (DESIGN decision 10):
// es-check reads the built scripts against the floor's engines (syntax and built-ins), eslint-plugin-compat
// their browser APIs (MDN's data; Preact's own code included), doiuse the built stylesheets against
// caniuse's data. `npm test` builds them first (`npm run build:ui`).
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import doiuse from 'doiuse'
import { runChecks } from 'es-check'
import { ESLint } from 'eslint'
import compat from 'eslint-plugin-compat'
import postcss, { type Node } from 'postcss'
import { floorQuery } from '../server/ui/floor.ts'
import { UI_BUILD_DIR, readBuildInfo, uiSourceHash } from '../server/ui/ui-sources.ts'

const info = await readBuildInfo()
const builtFiles = (extension: string): string[] =>
  (info?.files ?? []).filter(({ file }) => file.endsWith(extension)).map(({ file }) => path.join(UI_BUILD_DIR, file))

/**
 * caniuse features doiuse reports that are fine at the floor as this code uses them, each with why. A
 * feature not listed here, or a use the reason does not cover, fails the test.
 */
const fineAtTheFloor: Partial<Record<string, { why: string; covers: (usage: Node) => boolean }>> = {
  'css-overflow': {
    why: 'its partial support is the two-value syntax and `clip` (Chromium 90); one keyword works everywhere',
    covers: usage => usage.type === 'decl' && /^(hidden|auto|scroll|visible)$/.test((usage as postcss.Declaration).value)
  },
  'css-math-functions': {
    why: "doiuse matches the `max(` inside grid's `minmax()`, which Chromium has had since 57",
    covers: usage => !/(^|[^a-z-])(min|max|clamp)\(/.test(usage.toString())
  },
  'css-snappoints': {
    why: 'scroll-margin (Chromium 69) only leaves room around what the remote scrolls to; at 68 it scrolls to the edge',
    covers: usage => usage.type === 'decl' && (usage as postcss.Declaration).prop === 'scroll-margin'
  },
  'css-scrollbar': {
    why: '`scrollbar-width` is the standard twin of the ::-webkit-scrollbar rule beside it, which hides the bar at the floor',
    covers: usage => usage.type === 'decl' && (usage as postcss.Declaration).prop === 'scrollbar-width'
  },
  'css-clip-path': {
    why: "a basic shape (`inset()`) on HTML works since Chromium 55; the partial support is SVG's and `url()`",
    covers: usage => /clip-path:\s*inset\(/.test(usage.toString())
  },
  'css-masks': {
    why: 'doiuse counts `clip-path` as a mask feature too (see css-clip-path)',
    covers: usage => /clip-path:\s*inset\(/.test(usage.toString())
  },
  'prefers-reduced-motion': {
    why: 'an engine that does not know the query matches nothing: its motion stays as designed',
    covers: usage => usage.type === 'atrule'
  },
  'extended-system-fonts': {
    why: 'an unknown family in a font list falls to the next one',
    covers: usage => usage.type === 'decl' && (usage as postcss.Declaration).prop === 'font-family'
  }
}

t.test('the build is the one of the sources', async t => {
  t.equal(
    info?.sourceHash,
    await uiSourceHash(),
    'ui/build is built from the sources as they are (`npm test` builds it; alone: `npm run build:ui`)'
  )
  t.same(info?.floor, floorQuery(), 'built for the floor in package.json')
  t.ok(builtFiles('.js').length >= 3 && builtFiles('.css').length >= 5, 'every page has its script and stylesheets')
})

t.test('the scripts use no syntax or built-in above the floor (es-check)', async t => {
  const result = await runChecks([
    {
      ecmaVersion: 'checkBrowser',
      checkBrowser: true,
      browserslistQuery: floorQuery().join(', '),
      checkFeatures: true,
      files: builtFiles('.js')
    }
  ])
  t.same(
    result.errors.map(({ file, err }) => `${path.relative(UI_BUILD_DIR, file)}: ${err.message}`),
    [],
    `above ${floorQuery().join(', ')}`
  )
})

/** Browser APIs above the floor that the scripts call only where the engine has them, each with where. */
const providedAtTheFloor = {
  queueMicrotask: 'ui/engine-shims.js adds it where it is missing (Preact renders with it)',
  'Intl.DisplayNames': 'ui/screens/player.js names audio languages with it, and shows the code when it throws (before Chromium 81)',
  'Crypto.randomUUID': "hls.js (box/hls.js) calls it in a try, and takes a blob URL's UUID where it throws (before Chromium 92)"
}

t.test('the scripts call no browser API above the floor (eslint-plugin-compat)', async t => {
  const eslint = new ESLint({
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.js'],
        // es-check above judges the syntax: this parser only has to read it
        languageOptions: { ecmaVersion: 'latest', sourceType: 'script' },
        plugins: { compat },
        settings: { browsers: floorQuery(), polyfills: Object.keys(providedAtTheFloor) },
        rules: { 'compat/compat': 'error' }
      }
    ]
  })
  const results = await eslint.lintFiles(builtFiles('.js'))
  const found = results.flatMap(({ filePath, messages }) =>
    messages.map(({ line, column, message }) => `${path.relative(UI_BUILD_DIR, filePath)}:${line}:${column}: ${message}`)
  )
  t.same(found, [], `above ${floorQuery().join(', ')}`)
})

t.test('the stylesheets use no CSS above the floor (doiuse)', async t => {
  const found: string[] = []
  for (const file of builtFiles('.css')) {
    await postcss([
      doiuse({
        browsers: floorQuery(),
        onFeatureUsage: ({ feature, usage, message }) => {
          if (fineAtTheFloor[feature]?.covers(usage)) return
          found.push(
            `${path.relative(UI_BUILD_DIR, file)}: ${message.replace(/^[^:]*:\d+:\d+: /, '')} in "${usage.toString().slice(0, 120)}"`
          )
        }
      })
    ]).process(await readFile(file, 'utf8'), { from: file })
  }
  t.same(found, [], `above ${floorQuery().join(', ')}`)
})
