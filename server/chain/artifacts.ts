import type { InterfaceAbi } from 'ethers'
import { buildFilmToken } from '../../contracts/compile.ts'

/** The FilmToken ABI and creation bytecode; compiles first when the build is missing or stale. */
export async function loadFilmTokenArtifact(): Promise<{ abi: InterfaceAbi; bytecode: string }> {
  const { artifact } = await buildFilmToken()
  return { abi: artifact.abi as InterfaceAbi, bytecode: artifact.bytecode }
}
