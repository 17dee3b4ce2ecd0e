// Where a release keeps its server as built JavaScript (runtime-safe: the updater and the tests name it;
// the build itself, with esbuild, is build-server.ts).

/** The build's folder in a checkout or a release (gitignored): as deep as server/<area>/, its chunks beside its entries. */
export const SERVER_BUILD_DIR = 'server/build'
/** The `seed-one` command of a release, relative to its root: what systemd and the updater run. */
export const RELEASE_CLI = `${SERVER_BUILD_DIR}/cli.js`
