import { access } from 'node:fs/promises'

export async function pathExists(file: string): Promise<boolean> {
  return await access(file).then(
    () => true,
    () => false
  )
}
