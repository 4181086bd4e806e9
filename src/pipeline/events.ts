import { EventEmitter } from 'node:events';

/** What the pipeline tells observers (metrics, the lab's figures); nothing in the pipeline depends on a listener. */
export interface PipelineEventMap {
  /** A transient failure inside an attempt, about to be retried: a file copy or a playlist read. */
  retry: [{ stage: 'crawl' | 'transfer'; src: string; error: unknown }];
  /** The one step that marked a generation of a class COMPLETE, with how fresh it was (seconds from its end, or from the change or forced copy that started the generation). */
  classComplete: [{ classId: string; gen: number; freshnessSeconds?: number }];
  /** A chunk was copied and counted (not a duplicate, not stale). */
  chunkCounted: [{ classId: string; gen: number; chunk: number; files: number; bytes: number }];
  /** A delivery failed; `final` when it was the last before the DLQ (or a dead-letter error). */
  deliveryFailed: [{ stage: 'scan' | 'crawl' | 'transfer'; final: boolean }];
  /** A class was verified against the bucket (`flants verify`, the verify schedule): its findings, or that it could not be. */
  classVerified: [{ classId: string; findings: number; error: boolean }];
  /** A batch was received from one lane: the longest any of its messages waited since it was sent. */
  laneWait: [{ stage: 'scan' | 'crawl' | 'transfer'; lane: 'fresh' | 'bulk'; waitSeconds: number }];
  /** The origin asked to be spared (429, a Retry-After) or struggled (503, timeouts, resets): the fleet slows toward `host`. */
  originThrottled: [{ host: string; what: string; throttled: boolean }];
  /** A job was sent back to its queue with a delay because the origin throttled it (no delivery spent). */
  deferred: [{ stage: 'crawl' | 'transfer'; delaySeconds: number }];
}

/** A typed event emitter of pipeline events. */
export type PipelineEvents = EventEmitter<PipelineEventMap>;

/** A fresh emitter: each set of dependencies owns one. */
export function createPipelineEvents(): PipelineEvents {
  return new EventEmitter<PipelineEventMap>();
}
