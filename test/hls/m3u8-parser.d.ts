// Just the parts of m3u8-parser (untyped) the reference enumeration reads.
declare module 'm3u8-parser' {
  export interface M3u8Uri {
    uri?: string;
  }
  export interface M3u8Segment extends M3u8Uri {
    key?: M3u8Uri;
    map?: M3u8Uri;
    parts?: Array<M3u8Uri & { gap?: boolean }>;
  }
  export interface M3u8Manifest {
    segments: M3u8Segment[];
    playlists?: Array<M3u8Uri & { attributes?: Record<string, unknown> }>;
    iFramePlaylists?: M3u8Uri[];
    mediaGroups?: Record<string, Record<string, Record<string, M3u8Uri>>>;
    renditionReports?: M3u8Uri[];
    dateRanges?: Array<Record<string, unknown>>;
    contentSteering?: { serverUri?: string };
  }
  export class Parser {
    constructor(opts?: { uri?: string; mainDefinitions?: Record<string, string> });
    manifest: M3u8Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: string, listener: (e: unknown) => void): void;
  }
}
