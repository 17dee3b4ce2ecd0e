// Publish's progress as a person or a pipe reads it: on a terminal one line per step, rewritten in
// place with `\r`; piped (a log, a CI job, a test), whole lines, one per step and per quarter of it,
// so the output never reads "probe 0%probe 100%".
import { readByAPerson } from '../lib/log-output.ts'

const line = (step: string, fraction: number): string => `${step.padEnd(10)} ${(fraction * 100).toFixed(0).padStart(3)}%`

/** The onProgress of publishFilm, writing to `out`. */
export function progressLines(
  out: { isTTY?: boolean; write(text: string): unknown } = process.stdout
): (step: string, fraction: number) => void {
  let lastStep = ''
  let lastQuarter = -1
  const inPlace = readByAPerson(out)
  return (step, fraction) => {
    const quarter = Math.floor(fraction * 4)
    if (inPlace) {
      if (step !== lastStep || fraction === 1) out.write(`\r${line(step, fraction)}${fraction === 1 ? '\n' : ''}`)
    } else if (step !== lastStep || quarter > lastQuarter) out.write(`${line(step, quarter / 4)}\n`)
    if (step !== lastStep) lastQuarter = -1
    lastStep = step
    lastQuarter = Math.max(lastQuarter, quarter)
  }
}
