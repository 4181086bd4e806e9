// The dashboard: one snapshot of the ledger and the queues, rendered as HTML or JSON, served by
// the Lambda behind the IAM-authenticated HTTP API or by a local loopback server.
export { handleDashboardRequest, MAX_RESPONSE_BYTES, responseBytes, type DashboardDeps, type DashboardRequest, type DashboardResponse } from './http.ts';
export { escapeHtml, formatBytes, renderHtml, renderJson } from './render.ts';
export { createDashboardServer, type DashboardServer } from './server.ts';
export { collectSnapshot, compareRows, DASHBOARD_QUEUES, decodeCursor, encodeCursor, STATUS_ORDER, toClassRow, type ClassRow, type DashboardSnapshot, type DashboardSources, type PageCursor, type QueueRow } from './snapshot.ts';
