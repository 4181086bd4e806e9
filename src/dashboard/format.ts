// How the dashboard writes values for people: shared by the server's page (render.ts), the terminal
// and the live page's script (src/dashboard/browser/), so a figure reads the same wherever it is
// drawn. Pure, no Node API: the browser bundle imports it.
/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Bytes as a short human figure (1.5 GB), for people; the JSON keeps exact numbers. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
