import cron from 'node-cron'

export class ScheduleError extends Error {
  override name = 'ScheduleError'
}

const MINUTE = 60
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * A node-cron expression firing every `seconds`. Only intervals that divide a minute, an hour or a
 * day evenly (5 s, 30 s, 5 min, 20 min, 2 h, 1 day…) can be written so, and only they keep every gap
 * equal. `offsetSec` (below `seconds`) shifts every firing, so that boxes sharing an interval do not
 * all report in the same second.
 */
export function cronEvery(seconds: number, offsetSec = 0): string {
  if (!Number.isInteger(offsetSec) || offsetSec < 0 || offsetSec >= seconds)
    throw new ScheduleError(`offset ${offsetSec} s is not below ${seconds} s`)
  const s = offsetSec % MINUTE
  const m = Math.floor(offsetSec / MINUTE) % 60
  const h = Math.floor(offsetSec / HOUR)
  let expression: string | undefined
  if (seconds < MINUTE && MINUTE % seconds === 0) expression = `${s}-59/${seconds} * * * * *`
  else if (seconds % MINUTE === 0 && seconds < HOUR && HOUR % seconds === 0) expression = `${s} ${m}-59/${seconds / MINUTE} * * * *`
  else if (seconds % HOUR === 0 && seconds < DAY && DAY % seconds === 0) expression = `${s} ${m} ${h}-23/${seconds / HOUR} * * *`
  else if (seconds === DAY) expression = `${s} ${m} ${h} * * *`
  if (expression === undefined || !cron.validate(expression)) {
    throw new ScheduleError(`${seconds} s does not divide a minute, an hour or a day evenly (e.g. 30, 60, 300, 900, 3600)`)
  }
  return expression
}
