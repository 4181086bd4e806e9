// The dashboard: one snapshot of the ledger and the queues, rendered as HTML (a live page that
// keeps itself current from status.json) or JSON, served by the Lambda behind the IAM-authenticated
// HTTP API or by a local loopback server; and its terminal twin, `flants status --watch`.
export {
  handleDashboardRequest,
  MAX_RESPONSE_BYTES,
  responseBytes,
  type DashboardDeps,
  type DashboardRequest,
  type DashboardResponse,
} from './http.ts';
export { escapeHtml, formatBytes, renderHtml, renderJson } from './render.ts';
export { createDashboardServer, type DashboardServer } from './server.ts';
export {
  collectFailures,
  collectSnapshot,
  compareRows,
  DASHBOARD_QUEUES,
  decodeCursor,
  encodeCursor,
  queueAdvice,
  STATUS_ORDER,
  toClassRow,
  type ClassFailures,
  type ClassRow,
  type DashboardSnapshot,
  type DashboardSources,
  type FailedChunkView,
  type PageCursor,
  type QueueRow,
} from './snapshot.ts';
export {
  barCells,
  barText,
  formatDuration,
  ProgressTracker,
  RateTracker,
  timeToComplete,
  type BarCell,
  type Rate,
  type RateSample,
} from './progress.ts';
export { renderTerminal, type TerminalView } from './terminal.ts';
