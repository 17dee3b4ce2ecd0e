// The parts of es-check's and doiuse's APIs that test/ui-floor.test.ts uses (neither ships types its
// package exports point to).
declare module 'es-check' {
  export function runChecks(
    configs: { ecmaVersion: string; files: string[]; checkFeatures?: boolean; checkBrowser?: boolean; browserslistQuery?: string }[]
  ): Promise<{ success: boolean; errors: { file: string; err: Error }[] }>
}

declare module 'doiuse' {
  import type { Node, Plugin } from 'postcss'
  export default function doiuse(options: {
    browsers: string[]
    onFeatureUsage: (usage: { feature: string; usage: Node; message: string }) => void
  }): Plugin
}
