import type { HlsLimits } from '../domain/vocabulary.ts';
import type { Origin } from '../domain/ports/origin.ts';

/** What a file is, as far as a player is concerned. */
/** Every kind, in the order listings show them. */
export const FILE_KINDS = ['playlist', 'segment', 'init', 'key', 'subtitle', 'data', 'other'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** One file of a class: where to fetch it and where it goes in the bucket. */
export interface PlannedFile {
  /** Absolute http(s) URL to fetch, query string kept (file: URLs only when planning from a local file). */
  src: string;
  /** Destination key under DEST_PREFIX: never starts with "/", never has a ".." segment. */
  key: string;
  kind: FileKind;
  /** For a playlist: length and SHA-256 of the bytes enumerated (the same bytes read again need no scan). */
  bytes?: number;
  sha256?: string;
  /**
   * For a playlist: its reference digest (src/hls/reference-digest.ts), what "the same playlist" means:
   * the copy is held to it, and the plan id is made of it, not of the bytes.
   */
  refs?: string;
  /** For a playlist a redirect above it moved: where it sits in the layout (its references are keyed from there). */
  base?: string;
  /** For a playlist that IMPORTs variables: their values, so it can be scanned again alone. */
  vars?: Record<string, string>;
}

/** A class's enumeration: its files, and the media playlists that may still grow (no EXT-X-ENDLIST). */
export interface ClassEnumeration {
  files: PlannedFile[];
  /** URLs of media playlists without EXT-X-ENDLIST, and of dynamic DASH manifests: a live or unfinished class. */
  growing: string[];
  /** ALSO_COPY_MANIFESTS manifests the origin does not have: skipped, nothing to copy. */
  absent?: string[];
}

export interface PlanOptions {
  limits: HlsLimits;
  /** Normalised destination prefix ("" or "a/b/"). */
  destPrefix: string;
  /** ORIGIN_ALLOWED_HOSTS: every http(s) URI the class references must be on one of these hosts. */
  allowedHosts: readonly string[];
  /** Accept a file: master and file: references (only `flants plan <file>`; catalog URLs never). */
  allowFiles?: boolean;
  /** Playlists fetched at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** The only part of the origin that enumeration needs: fetching a playlist's text. */
export type PlaylistFetcher = Pick<Origin, 'fetchText'>;
