// What a dead-lettered message says about itself: FLAnts moves a message to its DLQ with its reason as
// attributes (flants-code, flants-error); the queue adapter reads them back, the dashboard advises on them.

/** One dead-lettered message's reason, as read from its attributes. */
export interface DeadLetterSample {
  code: string | undefined;
  error: string | undefined;
}
