// The two TV platforms' manifests for the app that opens the box (ui/tv-apps/). What each field is for is in
// the platforms' own references: webOS TV's appinfo.json, Tizen's config.xml (W3C widgets + tizen:).

export const WEBOS_APP_ID = 'com.seedone.tv'
/** Tizen: a package id is exactly 10 letters or digits; the application id is `<package>.<name>`. */
export const TIZEN_PACKAGE_ID = 'SeedOneApp'
export const TIZEN_APP_ID = `${TIZEN_PACKAGE_ID}.SeedOne`
export const APP_TITLE = 'Seed One'

/** Each icon file and its size in pixels, as each platform's launcher asks. */
export const WEBOS_ICONS = { 'icon.png': [80, 80], 'largeIcon.png': [130, 130] } as const
export const TIZEN_ICONS = { 'icon.png': [512, 423] } as const

/** The privileges the Tizen app asks for: the network, and the remote's media keys (tvinputdevice). */
export const TIZEN_PRIVILEGES = ['http://tizen.org/privilege/internet', 'http://tizen.org/privilege/tv.inputdevice']

/**
 * Both platforms take three dot-separated numbers (Tizen: each of the first two at most 255, the last at most
 * 65535), so a release's version is checked before it is written into a manifest.
 */
export function appVersion(version: string): string {
  const parts = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)
  if (!parts || Number(parts[1]) > 255 || Number(parts[2]) > 255 || Number(parts[3]) > 65535) {
    throw new Error(`package.json version "${version}" cannot be a TV app's version: use three numbers, e.g. 1.2.3 (at most 255.255.65535)`)
  }
  return version
}

export function webosAppInfo(version: string): object {
  return {
    id: WEBOS_APP_ID,
    version: appVersion(version),
    vendor: APP_TITLE,
    type: 'web',
    main: 'index.html',
    title: APP_TITLE,
    icon: 'icon.png',
    largeIcon: 'largeIcon.png',
    resolution: '1920x1080',
    // Back reaches the page as key 461, which the box's UI handles (ui/focus.js) one level at a time,
    // rather than webOS going back through the history (and into this finder page) by itself
    disableBackHistoryAPI: true
  }
}

export function tizenConfigXml(version: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<widget xmlns="http://www.w3.org/ns/widgets" xmlns:tizen="http://tizen.org/ns/widgets" id="http://seedone.invalid/tv" version="${appVersion(version)}" viewmodes="maximized">
  <tizen:application id="${TIZEN_APP_ID}" package="${TIZEN_PACKAGE_ID}" required_version="3.0"/>
  <tizen:profile name="tv-samsung"/>
  <name>${APP_TITLE}</name>
  <content src="index.html"/>
  <icon src="icon.png"/>
  <feature name="http://tizen.org/feature/screen.size.all"/>
  <!-- the box is wherever the home network puts it: any address may be asked and navigated to -->
  <access origin="*" subdomains="true"/>
  <tizen:allow-navigation>*</tizen:allow-navigation>
${TIZEN_PRIVILEGES.map(name => `  <tizen:privilege name="${name}"/>`).join('\n')}
  <tizen:setting screen-orientation="landscape" context-menu="disable" background-support="disable" encryption="disable" install-location="auto" hwkey-event="enable"/>
</widget>
`
}
