import { UnsafeInputError, type ErrorCode } from '../errors.ts';

/** Why a class's playlists cannot be enumerated; none of these improve by retrying. */
export type PlaylistErrorCode = Extract<
  ErrorCode,
  | 'NOT_A_PLAYLIST'
  | 'MANIFEST_UNSUPPORTED'
  | 'PLAYLIST_TOO_LARGE'
  | 'HOST_NOT_ALLOWED'
  | 'BAD_URI'
  | 'BAD_DEFINE'
  | 'UNSAFE_KEY'
  | 'KEY_COLLISION'
  | 'CRAWL_TOO_LARGE'
  | 'TOO_MANY_FILES'
  | 'TOO_MANY_PLAYLISTS'
  | 'TOO_DEEP'
  | 'FILE_NOT_FOUND'
>;

/** A playlist (or a reference in one) that FLAnts refuses to crawl; `retryable` is always false. */
export class PlaylistError extends UnsafeInputError {
  override readonly code: PlaylistErrorCode;
  /** The playlist or reference at fault, when there is one. */
  readonly url: string | undefined;

  constructor(code: PlaylistErrorCode, message: string, url?: string) {
    super(code, message);
    this.code = code;
    this.url = url;
  }
}
