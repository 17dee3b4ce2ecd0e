// The data directory's migrations, in order: append only, never edited once released (see
// migrations.ts and RELEASE.md "Data migrations"). The release data version is the list's length.
import type { Migration } from './migrations.ts'

export const MIGRATIONS: readonly Migration[] = []
