// Whether the box's view of the chain is current, for the screens and the status API: a chain RPC that
// is down or answering garbage leaves the library as it was last synced, and the owner should know.

export interface ChainSyncView {
  /** starting: no sync has ended yet; synced: the last sync succeeded; failing: it failed and is being retried */
  state: 'starting' | 'synced' | 'failing'
  /** When a sync last succeeded. */
  lastSyncAt: string | null
  /** Why the last sync failed, while failing. */
  error: string | null
  /** When the current run of failures began. */
  failingSince: string | null
}

export const chainSyncSchema = {
  type: 'object',
  required: ['state', 'lastSyncAt', 'error', 'failingSince'],
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: ['starting', 'synced', 'failing'] },
    lastSyncAt: { type: ['string', 'null'], format: 'date-time' },
    error: { type: ['string', 'null'] },
    failingSince: { type: ['string', 'null'], format: 'date-time' }
  }
} as const

export interface ChainSyncStatus {
  synced(): void
  failed(err: unknown): void
  view(): ChainSyncView
}

/** A failed sync, for a person: ethers' own messages quote the whole request and answer, or name no cause at all. */
function describe(err: unknown): string {
  const { shortMessage, error } = err as { shortMessage?: string; error?: { message?: unknown } }
  // a JSON-RPC error object the RPC answered with, which ethers could not map to one of its own codes
  if (typeof error?.message === 'string') return `the chain RPC answered with an error: ${error.message}`
  const message = shortMessage ?? (err instanceof Error ? err.message : String(err))
  return message.startsWith('the chain RPC') ? message : `the chain RPC: ${message}`
}

/** `onChange` hears when the state or the error changes (not each successful sync's time). */
export function createChainSyncStatus(onChange?: () => void): ChainSyncStatus {
  let view: ChainSyncView = { state: 'starting', lastSyncAt: null, error: null, failingSince: null }
  const set = (next: ChainSyncView): void => {
    const changed = next.state !== view.state || next.error !== view.error
    view = next
    if (changed) onChange?.()
  }
  return {
    synced() {
      set({ state: 'synced', lastSyncAt: new Date().toISOString(), error: null, failingSince: null })
    },
    failed(err) {
      set({ ...view, state: 'failing', error: describe(err), failingSince: view.failingSince ?? new Date().toISOString() })
    },
    view: () => view
  }
}
