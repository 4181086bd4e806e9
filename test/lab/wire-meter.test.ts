import { describe, expect, it } from 'vitest';
import { sendQueues } from '../../lab/wire-meter.ts';

// Lines as Linux writes /proc/net/tcp: sl, local, remote, state, tx_queue:rx_queue, …
const text = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
  '   1: 0100007F:1F90 0100007F:C350 01 0003F000:00000000 01:00000014 00000000  1000        0 2 1 0 20 4 30 10 -1',
  '   2: 0100007F:1F90 0100007F:C351 06 00001000:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1',
  '   3: 0100007F:C352 0100007F:1F90 01 00000010:00000000 00:00000000 00000000  1000        0 4 1 0 20 4 30 10 -1',
  '   4: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C353 01 00000200:00000000 00:00000000 00000000 1000 0 5',
].join('\n');

describe('the wire meter', () => {
  it("reads the unacknowledged bytes of the port's established connections, by remote port (IPv4 and IPv6)", () => {
    // 0x1F90 = 8080; the listener (0A), a TIME_WAIT (06) and a connection to another port are not counted.
    expect(sendQueues(text, 8080)).toEqual(
      new Map([
        [0xc350, 0x3f000],
        [0xc353, 0x200],
      ]),
    );
    expect(sendQueues(text, 8081).size).toBe(0);
    expect(sendQueues('', 8080).size).toBe(0);
  });
});
