// Everything the page computes as the server and `flants status --watch` do, taken from their own
// modules: the page's code reaches Node-side code only through here, and only pure modules (no Node
// API, no imports of their own). test/dashboard/client.test.ts holds these to be the very functions
// those modules export, and the bundle to be built from them.
export { escapeHtml, formatBytes } from '../format.ts';
export { hexDigit, filesProgress, formatDuration, ProgressTracker, RATE_WINDOWS, RateTracker } from '../progress.ts';
export type { Rate, RateSample } from '../progress.ts';
