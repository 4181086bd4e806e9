// What the page keeps in the browser (localStorage, per stage): the reader's view and the hour of
// totals its rates are measured from. Without storage (private mode, refused) the page works as well.
import { RATE_WINDOWS, type RateSample } from './shared.ts';

export interface Saved {
  load(name: string): unknown;
  save(name: string, value: unknown): void;
}

/** The page's storage for one stage; a no-op where the browser refuses it. */
export function savedFor(stage: string): Saved {
  let store: Storage | null = null;
  try {
    localStorage.setItem('flants:probe', '1');
    localStorage.removeItem('flants:probe');
    store = localStorage;
  } catch {
    store = null;
  }
  return {
    load(name) {
      try {
        const v = store && store.getItem(`flants:${stage}:${name}`);
        return v ? (JSON.parse(v) as unknown) : undefined;
      } catch {
        return undefined;
      }
    },
    save(name, value) {
      try {
        if (store) store.setItem(`flants:${stage}:${name}`, JSON.stringify(value));
      } catch {
        /* full or refused: the page works without */
      }
    },
  };
}

/** A sample as the page keeps it ({t, f, b}: files and bytes, short for an hour of them). */
interface KeptSample {
  t: number;
  f: number;
  b: number;
}

function isKeptSample(v: unknown): v is KeptSample {
  if (!v || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return typeof s.t === 'number' && typeof s.f === 'number' && typeof s.b === 'number';
}

/** The samples kept that still fall in the last hour (and a minute) before `now`. */
export function samplesFrom(kept: unknown, now: number): RateSample[] {
  return (Array.isArray(kept) ? kept : [])
    .filter(isKeptSample)
    .filter((s) => s.t > now - RATE_WINDOWS.hourMs - 60000)
    .map((s) => ({ t: s.t, files: s.f, bytes: s.b }));
}

export function samplesToKeep(samples: readonly RateSample[]): KeptSample[] {
  return samples.map((s) => ({ t: s.t, f: s.files, b: s.bytes }));
}
