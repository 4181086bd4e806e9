// Random ids messages carry: drawn by whoever sends, whatever the queue.
import { randomUUID } from 'node:crypto';

/** A short random id for correlating one scan's pages in logs. */
export function newScanId(): string {
  return randomUUID().slice(0, 8);
}

/**
 * A scan page's claim token, drawn for each scan message sent: a redelivery or a redrive of that
 * message carries it (the redrive gives the message a new id), a second message for the page another.
 */
export function newPageToken(): string {
  return randomUUID();
}
