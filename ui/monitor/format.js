// How the dashboard writes times and shares (bytes: the TV UI's formatBytes).

/**
 * "12 s ago", "5 min ago", "3 h ago", "2 d ago".
 * @param {string} iso
 * @param {number} now
 */
export function formatAgo(iso, now) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86400)} d ago`
}

/** @param {number} seconds */
export function formatDuration(seconds) {
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`
  return `${Math.floor(seconds / 86400)} d`
}

/** @param {number} share 0..1 */
export const formatPercent = share => `${Math.round(share * 100)} %`

/** A peer id or CID shortened to its start and end, for tables. @param {string} id */
export const shortId = id => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)
