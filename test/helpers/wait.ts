import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns true; past `timeoutMs` it throws "still waiting for <what>" with the
 * last thing `probe` reported through `note`, so a slow machine's failure says what had not happened.
 */
export async function waitUntil(
  what: string,
  probe: (note: (s: string) => void) => Promise<boolean>,
  { timeoutMs = 300_000, pollMs = 100 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const started = Date.now();
  let last = '';
  const note = (s: string) => {
    last = s;
  };
  for (;;) {
    if (await probe(note)) return;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `still waiting for ${what} after ${Math.round((Date.now() - started) / 1000)} s${last ? ` (${last})` : ''}`,
      );
    await sleep(pollMs);
  }
}
