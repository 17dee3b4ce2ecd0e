/** Where the film contract lives and how the box talks to its chain (`--rpc-url`, `--contract`, … in config.ts). */
export interface ChainConfig {
  rpcUrl: string
  contractAddress: string
  /** The block the contract was deployed in: the watcher's first sync starts here. */
  deploymentBlock: number
  /** Blocks a transfer needs on top before the library acts on it; by default set by the chain (see film-token.ts). */
  confirmations?: number
  /** How long one JSON-RPC request may take (default DEFAULT_RPC_TIMEOUT_MS in rpc-connection.ts). */
  requestTimeoutMs?: number
}
