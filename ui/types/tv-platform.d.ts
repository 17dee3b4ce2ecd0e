// What finder.js reads from the page's globals: the build's config.js, and Tizen's web API (absent on webOS).
interface Window {
  SEED_ONE_TV_CONFIG?: { names: string[]; monitorUrl: string }
  tizen?: {
    application: { getCurrentApplication(): { exit(): void } }
    tvinputdevice?: { getSupportedKeys(): Array<{ name: string }>; registerKey(name: string): void }
  }
}
