import { PlaylistError } from './errors.ts';
import type { PlaylistLine } from './lines.ts';

function snippet(line: PlaylistLine): string {
  const text = line.type === 'tag' ? `#${line.name}` : line.uri;
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

/** Refuses a body that is not an HLS playlist: empty, binary, or not opening with #EXTM3U (blanks and comments aside). */
export function assertPlaylistText(text: string, lines: readonly PlaylistLine[], url: string): void {
  const first = lines[0];
  if (first === undefined)
    throw new PlaylistError('NOT_A_PLAYLIST', `${url} is not an HLS playlist: the body is empty`, url);
  if (text.includes('\u0000'))
    throw new PlaylistError('NOT_A_PLAYLIST', `${url} is not an HLS playlist: the body is binary`, url);
  if (first.type !== 'tag' || first.name !== 'EXTM3U') {
    throw new PlaylistError(
      'NOT_A_PLAYLIST',
      `${url} is not an HLS playlist: it does not start with #EXTM3U (line ${first.line} is "${snippet(first)}")`,
      url,
    );
  }
}
