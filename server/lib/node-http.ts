// node:http for ESM modules, without undici. `import … from 'node:http'` builds the module's ESM
// namespace from every export, and reading http.WebSocket (a lazy getter) loads undici, fetch's
// engine: ~1 MB of source and a WebAssembly parser, held by a daemon that never calls fetch at start
// (docs/benchmarks.md). process.getBuiltinModule hands over the CommonJS exports as they are.
// Types come from `import type … from 'node:http'`, which is erased.
export const http = process.getBuiltinModule('node:http')
