/**
 * How a class's files add up when a chunk failed (issue 21, item 4). A failed chunk counts nothing
 * until it is redriven, yet its other files were copied: without this line `286 / 306` with one
 * failed file leaves 19 files unexplained. Pure.
 */

/** What the accounting reads of a class (a ClassView's fields). */
export interface AccountInput {
  files: number;
  doneFiles: number;
  failedFiles: number;
  chunks: number;
  doneChunks: number;
  /** Failed chunks of the current plan (set bits of the failed bit field). */
  failedChunks: number;
}

export interface FileAccount {
  done: number;
  failed: number;
  /** Files of failed chunks that did not fail themselves: counted when their chunk is redriven and succeeds. */
  awaitingRedrive: number;
  /** Files of chunks still in flight (neither done nor failed yet). */
  inFlight: number;
  /** True when awaitingRedrive and inFlight cannot be told apart (chunks in flight beside failed ones). */
  mixed: boolean;
  total: number;
}

/** The number of set bits in a hex bit field. */
export function countBits(hex: string): number {
  let n = 0;
  for (const ch of hex) {
    let d = parseInt(ch, 16);
    if (Number.isNaN(d)) continue;
    for (; d > 0; d >>= 1) n += d & 1;
  }
  return n;
}

/** Splits a class's files into done, failed, waiting on a failed chunk's redrive and in flight. */
export function accountFiles(c: AccountInput): FileAccount | undefined {
  if (c.failedChunks === 0 && c.failedFiles === 0) return undefined;
  const rest = Math.max(0, c.files - c.doneFiles - c.failedFiles);
  // Every chunk is done or failed: what is not counted belongs to the failed chunks.
  const settled = c.doneChunks + c.failedChunks >= c.chunks;
  return {
    done: c.doneFiles,
    failed: c.failedFiles,
    awaitingRedrive: settled ? rest : 0,
    inFlight: settled ? 0 : rest,
    mixed: !settled && c.failedChunks > 0,
    total: c.files,
  };
}

function files(n: number): string {
  return `${n} ${n === 1 ? 'file' : 'files'}`;
}

/**
 * The sum in words: "286 done + 1 failed + 19 copied, waiting on the redrive of 1 failed chunk = 306 files".
 * Undefined when no chunk failed (then done / total says it all).
 */
export function describeAccount(c: AccountInput): string | undefined {
  const a = accountFiles(c);
  if (!a) return undefined;
  const chunks = `${c.failedChunks} failed ${c.failedChunks === 1 ? 'chunk' : 'chunks'}`;
  const parts = [`${a.done} done`, `${a.failed} failed`];
  if (a.mixed)
    parts.push(`${a.inFlight} not counted yet (in flight, or copied and waiting on the redrive of ${chunks})`);
  else {
    if (a.awaitingRedrive > 0) parts.push(`${a.awaitingRedrive} copied, waiting on the redrive of ${chunks}`);
    if (a.inFlight > 0) parts.push(`${a.inFlight} in flight`);
  }
  return `${parts.join(' + ')} = ${files(a.total)}`;
}

/** describeAccount for a class as operators see it (its bit field gives the failed chunks). */
export function describeClassAccount(v: {
  files: number;
  doneFiles: number;
  failedFiles: number;
  chunks: number;
  doneChunks: number;
  bits: { failed: string } | null | undefined;
}): string | undefined {
  return describeAccount({ ...v, failedChunks: v.bits ? countBits(v.bits.failed) : 0 });
}
