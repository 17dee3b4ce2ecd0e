// readSystemStats against the machine's own sources read independently here (/proc, statfs, sysfs), and
// without starting a child process synchronously: execSync stalls the event loop, and every stream with it.
import t from 'tap'
import childProcess from 'node:child_process'
import { chmod, mkdir, readdir, readFile, statfs, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import os from 'node:os'
import path from 'node:path'

// Spies on the synchronous ways to start a process, installed before the health modules load (a library
// such as systeminformation keeps its own reference to child_process.execSync from when it is loaded).
const SYNC_SPAWNERS = ['execSync', 'execFileSync', 'spawnSync'] as const
const syncSpawns: string[] = []
const originals = new Map(SYNC_SPAWNERS.map(name => [name, childProcess[name]]))
for (const name of SYNC_SPAWNERS) {
  const original = childProcess[name] as (...args: unknown[]) => unknown
  Object.assign(childProcess, {
    [name]: (...args: unknown[]) => {
      syncSpawns.push(`${name} ${String(args[0])}`)
      return original(...args)
    }
  })
}
syncBuiltinESMExports()
t.teardown(() => {
  Object.assign(childProcess, Object.fromEntries(originals))
  syncBuiltinESMExports()
})
const { readSystemStats } = await import('../server/health/system-stats.ts')
const { readCpuTemperatureC } = await import('../server/health/cpu-temperature.ts')
const { readPiThrottled } = await import('../server/health/pi-throttled.ts')

const meminfoBytes = async (field: string): Promise<number> => {
  const line = (await readFile('/proc/meminfo', 'utf8')).split('\n').find(l => l.startsWith(`${field}:`))
  return Number(line?.split(/\s+/)[1]) * 1024
}

/** Bytes counted by the interfaces' own sysfs statistics (not /proc/net/dev), for those with an address but loopback. */
async function sysfsCounters(): Promise<{ rxBytes: number; txBytes: number }> {
  const names = [...new Set(Object.keys(os.networkInterfaces()).map(name => name.split(':')[0]))].filter(name => name !== 'lo')
  const read = async (name: string, counter: string) => Number(await readFile(`/sys/class/net/${name}/statistics/${counter}`, 'utf8'))
  let rxBytes = 0
  let txBytes = 0
  for (const name of names) {
    rxBytes += await read(name, 'rx_bytes')
    txBytes += await read(name, 'tx_bytes')
  }
  return { rxBytes, txBytes }
}

const between = (value: number, a: number, b: number): boolean => Math.min(a, b) <= value && value <= Math.max(a, b)

// First: once vcgencmd has failed (as it does off a Pi) the module no longer starts it.
t.test('the Pi throttling flags: the firmware file, else vcgencmd, else null', async t => {
  const dir = t.testdir({ get_throttled: '50005\n', bin: {} })
  t.equal(await readPiThrottled(path.join(dir, 'get_throttled')), 0x50005, 'the firmware file, in hex')

  const path0 = process.env.PATH
  t.teardown(() => {
    process.env.PATH = path0
  })
  const vcgencmd = path.join(dir, 'bin', 'vcgencmd')
  await writeFile(vcgencmd, '#!/bin/sh\n[ "$1" = get_throttled ] && echo throttled=0x80008\n')
  await chmod(vcgencmd, 0o755)
  process.env.PATH = path.join(dir, 'bin')
  const absent = path.join(dir, 'absent')
  t.equal(await readPiThrottled(absent), 0x80008, 'vcgencmd get_throttled without the file')

  await mkdir(path.join(dir, 'empty'))
  process.env.PATH = path.join(dir, 'empty')
  t.equal(await readPiThrottled(absent), null, 'neither: null')
  t.same(syncSpawns, [], 'vcgencmd was started asynchronously')
})

t.test('the figures are the machine’s, and no process is started synchronously', async t => {
  const dataDir = t.testdir()
  const before = { disk: await statfs(dataDir), load1: os.loadavg()[0], network: await sysfsCounters() }
  syncSpawns.length = 0
  const first = await readSystemStats(dataDir)
  const end = Date.now() + 300 // keep a core busy so the next reading's window has work in it
  while (Date.now() < end);
  const stats = await readSystemStats(dataDir)
  t.same(syncSpawns, [], 'no execSync, execFileSync or spawnSync')
  const after = { disk: await statfs(dataDir), load1: os.loadavg()[0], network: await sysfsCounters() }

  t.ok(Date.parse(stats.at) >= Date.parse(first.at), 'timestamped')
  t.equal(stats.cpu.cores, os.cpus().length, 'cores: the online CPUs')
  t.ok(stats.cpu.loadPercent > 0 && stats.cpu.loadPercent <= 100, `busy share ${stats.cpu.loadPercent} % after keeping a core busy`)
  t.ok(between(stats.cpu.load1, before.load1, after.load1), 'load1 is the kernel’s one-minute load average')

  t.equal(stats.memory.totalBytes, await meminfoBytes('MemTotal'), 'memory total: /proc/meminfo MemTotal')
  t.equal(stats.memory.usedBytes + stats.memory.availableBytes, stats.memory.totalBytes, 'used + available = total')
  t.ok(stats.memory.availableBytes > 0 && stats.memory.availableBytes < stats.memory.totalBytes, 'some memory is available')

  t.equal(stats.disk.totalBytes, after.disk.blocks * after.disk.bsize, 'disk total: statfs of the data directory')
  // Others write to the same disk: each figure lies between the statfs readings taken around it.
  const free = (s: typeof after.disk) => s.bavail * s.bsize
  const used = (s: typeof after.disk) => (s.blocks - s.bfree) * s.bsize
  t.ok(between(stats.disk.freeBytes, free(before.disk), free(after.disk)), 'disk free: statfs available blocks')
  t.ok(between(stats.disk.usedBytes, used(before.disk), used(after.disk)), 'disk used: statfs blocks less free blocks')

  t.ok(between(stats.network.rxBytes, before.network.rxBytes, after.network.rxBytes), 'received bytes: the interfaces’ counters')
  t.ok(between(stats.network.txBytes, before.network.txBytes, after.network.txBytes), 'sent bytes: the interfaces’ counters')
  t.ok(stats.network.rxBytes >= first.network.rxBytes, 'counters only grow')

  t.equal(stats.cpu.temperatureC, await readCpuTemperatureC(), 'the temperature of the CPU thermal zone')
  const zones = await readdir('/sys/class/thermal').catch(() => [])
  if (!zones.some(zone => zone.startsWith('thermal_zone'))) t.equal(stats.cpu.temperatureC, null, 'no thermal zone: no temperature')
})

t.test('the CPU temperature: the first CPU zone, in °C to 0.1; null without one', async t => {
  const thermal = t.testdir({
    thermal_zone0: { type: 'acpitz\n', temp: '27800\n' },
    thermal_zone2: { type: 'cpu-thermal\n', temp: '61250\n' },
    thermal_zone10: { type: 'cpu-thermal\n', temp: '99000\n' },
    cooling_device0: { type: 'Processor\n' }
  })
  t.equal(await readCpuTemperatureC(thermal), 61.3, 'cpu-thermal, the lowest numbered')
  const noCpu = t.testdir({ thermal_zone0: { type: 'acpitz\n', temp: '27800\n' } })
  t.equal(await readCpuTemperatureC(noCpu), null, 'no zone is a CPU’s')
  t.equal(await readCpuTemperatureC(path.join(noCpu, 'absent')), null, 'no thermal zones at all')
})
