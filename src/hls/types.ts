import type { HlsLimits } from '../config.ts';
import type { Origin } from '../origin/client.ts';

/** What a file is, as far as a player is concerned. */
export type FileKind = 'playlist' | 'segment' | 'init' | 'key' | 'subtitle' | 'data' | 'other';

/** One file of a class: where to fetch it and where it goes in the bucket. */
export interface PlannedFile {
  /** Absolute http(s) URL to fetch, query string kept. */
  src: string;
  /** Destination key under DEST_PREFIX: never starts with "/", never has a ".." segment. */
  key: string;
  kind: FileKind;
}

export interface PlanOptions {
  limits: HlsLimits;
  /** Normalised destination prefix ("" or "a/b/"). */
  destPrefix: string;
  signal?: AbortSignal;
}

/** The only part of the origin that enumeration needs: fetching a playlist's text. */
export type PlaylistFetcher = Pick<Origin, 'fetchText'>;
