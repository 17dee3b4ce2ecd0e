// ethers, one copy of it: its CommonJS build, the one siwe `require`s (server/pairing/owner-authorisation.ts).
// Imported as ESM it would be a second copy beside siwe's (126 modules, ~1 MB of source, ~3 MB of heap),
// and its ESM build imports node:http as ESM, whose namespace reads http.WebSocket and so loads undici,
// fetch's engine (~1 MB of source and a WebAssembly parser), in a daemon that needs neither
// (docs/benchmarks.md). Every value the server takes from ethers comes from here; types from 'ethers'.
import { createRequire } from 'node:module'
import type * as Ethers from 'ethers'

const ethers = createRequire(import.meta.url)('ethers') as typeof Ethers

export const { computeAddress, formatEther, getAddress, getCreateAddress, isAddress, zeroPadValue, ZeroHash } = ethers

export const Contract = ethers.Contract
export type Contract = Ethers.Contract
export const ContractFactory = ethers.ContractFactory
export type ContractFactory = Ethers.ContractFactory
export const FetchRequest = ethers.FetchRequest
export type FetchRequest = Ethers.FetchRequest
export const HDNodeWallet = ethers.HDNodeWallet
export type HDNodeWallet = Ethers.HDNodeWallet
export const Interface = ethers.Interface
export type Interface = Ethers.Interface
export const JsonRpcProvider = ethers.JsonRpcProvider
export type JsonRpcProvider = Ethers.JsonRpcProvider
export const Network = ethers.Network
export type Network = Ethers.Network
export const Transaction = ethers.Transaction
export type Transaction = Ethers.Transaction
export const Wallet = ethers.Wallet
export type Wallet = Ethers.Wallet
