// The service manager's end of sd_notify(3), for tests and benchmarks. Node has no unix datagram
// sockets, so a small Python reader holds it: it prints each message with its CLOCK_MONOTONIC arrival
// time and closes the descriptors sent with it (systemd-notify's BARRIER=1 waits for exactly that).
// Given a status URL, it asks it the moment READY=1 arrives, so a READY sent before the daemon serves is caught.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

const NOTIFY_RECEIVER = `
import array, json, os, socket, sys, time, urllib.request
path, status_url = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print(json.dumps({'listening': True}), flush=True)
while True:
    data, ancdata, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(64 * 4))
    for level, kind, fds in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in array.array('i', fds[: len(fds) - len(fds) % 4]):
                os.close(fd)
    event = {'at': time.monotonic(), 'lines': data.decode().split('\\n')}
    if status_url and 'READY=1' in event['lines']:
        try:
            with urllib.request.urlopen(status_url, timeout=10) as response:
                event['status'] = response.status
        except Exception as err:
            event['status'] = repr(err)
    print(json.dumps(event), flush=True)
`

export interface NotifyEvent {
  /** Arrival, in seconds on CLOCK_MONOTONIC. */
  at: number
  lines: string[]
  /** With a status URL, on READY=1: its HTTP status, or the error asking it. */
  status?: number | string
}

/** Listens on `socketPath` (at most 108 bytes); `events` fills as messages arrive. Kill `process` when done. */
export async function startNotifySocket(
  socketPath: string,
  opts: { statusUrl?: string } = {}
): Promise<{ process: ChildProcess; events: NotifyEvent[] }> {
  const receiver = spawn('python3', ['-c', NOTIFY_RECEIVER, socketPath, ...(opts.statusUrl === undefined ? [] : [opts.statusUrl])], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const events: NotifyEvent[] = []
  await new Promise<void>((resolve, reject) => {
    receiver.once('exit', code => reject(new Error(`the notify socket's reader exited with ${code}`)))
    createInterface({ input: receiver.stdout! }).on('line', line => {
      const event = JSON.parse(line)
      if (event.listening === true) resolve()
      else events.push(event as NotifyEvent)
    })
  })
  return { process: receiver, events }
}
