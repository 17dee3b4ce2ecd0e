import t from 'tap'
import { parseRangeHeader, type RangeRequest } from '../server/streaming/range.ts'

const full: RangeRequest = { kind: 'full' }
const unsatisfiable: RangeRequest = { kind: 'unsatisfiable' }
const partial = (start: number, end: number): RangeRequest => ({ kind: 'partial', start, end })

// [header, representation size, expected]
const cases: [string | undefined, number, RangeRequest][] = [
  [undefined, 100, full],
  ['', 100, full],
  ['bytes=0-0', 100, partial(0, 0)],
  ['bytes=0-99', 100, partial(0, 99)],
  ['bytes=10-19', 100, partial(10, 19)],
  ['bytes=50-', 100, partial(50, 99)],
  ['bytes=0-', 100, partial(0, 99)],
  ['bytes=90-500', 100, partial(90, 99)],
  ['bytes=99-99', 100, partial(99, 99)],
  ['bytes=-10', 100, partial(90, 99)],
  ['bytes=-100', 100, partial(0, 99)],
  ['bytes=-500', 100, partial(0, 99)],
  ['bytes=-0', 100, unsatisfiable],
  ['bytes=100-', 100, unsatisfiable],
  ['bytes=100-200', 100, unsatisfiable],
  ['bytes=5-2', 100, full],
  ['items=0-1', 100, full],
  ['bytes 0-1', 100, full],
  ['bytes=', 100, full],
  ['bytes=-', 100, full],
  ['bytes=a-b', 100, full],
  ['bytes=1-2-3', 100, full],
  ['bytes=--1', 100, full],
  ['bytes=-1-2', 100, full],
  ['bytes=+1-2', 100, full],
  ['bytes=1 - 2', 100, full],
  ['bytes=0x10-20', 100, full],
  ['bytes=0-1,3-4', 100, full],
  ['bytes=0-1, 200-300', 100, full],
  ['bytes=200-300,400-', 100, unsatisfiable],
  ['bytes=200-300, -0', 100, unsatisfiable],
  ['bytes=0-1,5-2', 100, full],
  ['BYTES=0-1', 100, partial(0, 1)],
  ['Bytes=-5', 100, partial(95, 99)],
  ['  bytes=3-4  ', 100, partial(3, 4)],
  ['bytes= 3-4\t', 100, full], // whitespace only around commas: not a valid range-set
  ['bytes= ,3-4\t', 100, partial(3, 4)],
  ['bytes=3-4 ,', 100, partial(3, 4)],
  ['bytes=,3-4', 100, partial(3, 4)],
  ['bytes=, ,', 100, full],
  ['bytes = 3-4', 100, full],
  ['bytes=9007199254740991-', 100, unsatisfiable],
  ['bytes=0-9007199254740991', 100, partial(0, 99)],
  ['bytes=0-9007199254740992', 100, partial(0, 99)], // positions of any length (1*DIGIT)
  ['bytes=99999999999999999999-', 100, unsatisfiable],
  ['bytes=99999999999999999999-99999999999999999998', 100, full],
  ['bytes=-99999999999999999999', 100, partial(0, 99)],
  ['bytes=0-1e3', 100, full],
  ['bytes=-1', 1, partial(0, 0)],
  ['bytes=0-0', 0, unsatisfiable],
  ['bytes=0-', 0, unsatisfiable],
  ['bytes=-5', 0, unsatisfiable],
  ['bytes=5-2', 0, full],
  [undefined, 0, full],
  ['bytes=4294967296-4294967300', 8589934592, partial(4294967296, 4294967300)]
]

t.test('Range header table', async t => {
  for (const [header, size, expected] of cases) {
    t.same(parseRangeHeader(header, size), expected, `${JSON.stringify(header)} of ${size} bytes`)
  }
})

t.test('a bad representation size is a programming error', async t => {
  t.throws(() => parseRangeHeader('bytes=0-1', -1), RangeError)
  t.throws(() => parseRangeHeader('bytes=0-1', 1.5), /not a non-negative integer/)
})
