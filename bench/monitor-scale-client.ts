// The boxes of bench/monitor-scale.ts's HTTP run, in a process (and on a core) of their own so that the
// monitor's CPU time is the monitor's: makes the boxes, tells the parent who they are (it writes them
// into the monitor's store), signs their reports, and posts them when told where.
import http from 'node:http'
import { REPORTS_PATH, type SignedReport } from '../server/wire/monitor-protocol.ts'
import { filmCids, makeBoxes, signedReports } from './monitor-fleet.ts'

export interface ClientJob {
  boxes: number
  held: number
  rounds: number
  concurrency: number
}
export interface ClientResult {
  wallMs: number
  statuses: Record<number, number>
}

/** Reports one address may send a minute are capped (monitor-routes.ts): each address sends fewer than that. */
const REPORTS_PER_ADDRESS = 250

function post(url: string, agent: http.Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function send(url: string, reports: SignedReport[], concurrency: number): Promise<ClientResult> {
  const addresses = Math.ceil(reports.length / REPORTS_PER_ADDRESS)
  if (addresses > 250) throw new Error(`${reports.length} reports need more than 250 loopback addresses`)
  const agents = Array.from({ length: addresses }, (_, i) => new http.Agent({ keepAlive: true, localAddress: `127.0.0.${2 + i}` }))
  const bodies = reports.map(report => JSON.stringify(report))
  const statuses: Record<number, number> = {}
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const status = await post(`${url}${REPORTS_PATH}`, agents[i % addresses], bodies[i])
        statuses[status] = (statuses[status] ?? 0) + 1
      }
    })
  )
  const wallMs = performance.now() - started
  for (const agent of agents) agent.destroy()
  return { wallMs, statuses }
}

const job = await new Promise<ClientJob>(resolve => process.once('message', resolve))
const boxes = await makeBoxes(job.boxes, () => filmCids(job.held))
const reports = await signedReports(boxes, 2, job.rounds)
process.send?.({ boxes: boxes.map(({ deviceId, apiUrl, held }) => ({ deviceId, apiUrl, held })) })
const { url } = await new Promise<{ url: string }>(resolve => process.once('message', resolve))
process.send?.(await send(url, reports, job.concurrency))
process.disconnect()
