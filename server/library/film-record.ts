import type { FilmMetadata } from './film-metadata.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** The owner's films, and their keys as the custodian sent them, by token id. */
    films: { [tokenId: string]: FilmRecord }
    'film-keys': { [tokenId: string]: StoredFilmKey }
  }
}

/** Where an owned film stands on this box. */
export type FilmState = 'pending' | 'pinning' | 'ready' | 'locked' | 'error'

/** One film of the owner's library, as kept in the state database. */
export interface FilmRecord {
  tokenId: string
  /** Tokens the owner holds, as a decimal string (uint256). */
  quantity: string
  tier: number
  metadataUri: string
  metadata?: FilmMetadata
  state: FilmState
  /** Pin progress, 0..1. */
  progress: number
  error?: string
  /** When the sale was seen: the blocks are released a grace period later. */
  lockedAt?: string
  unpinned?: boolean
}

/** A film key as the box keeps it: still wrapped to the device's X25519 key. */
export interface StoredFilmKey {
  wrappedKey: import('../wire/custodian-protocol.ts').WrappedKey
  custodianUrl: string
  /** The sealed content the key was wrapped for (part of the wrap context); absent in keys kept by older releases. */
  contentCid?: string
  /** When the custodian last confirmed the owner still holds the film. */
  verifiedAt: string
}

const TIER_NAMES = ['none', 'personal', 'small venue', 'streaming', 'theatrical', 'national']

export function tierName(tier: number): string {
  return TIER_NAMES[tier] ?? `tier ${tier}`
}
