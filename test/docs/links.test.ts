// Every relative link in README.md and docs/*.md names a file that exists and, with a #fragment, a heading
// that file has (as GitHub makes anchors from headings): moving a section between pages must not strand a link.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The text outside fenced code blocks, where a link is a link. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[\s\S]*?^\1\s*$/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every `[text](target)` and `![alt](target)` outside code, inline code excluded. */
function links(text: string): string[] {
  const body = prose(text).replace(/`[^`\n]*`/g, '');
  return [...body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('links between README.md and docs/', () => {
  it('GitHub anchors as the checker makes them', () => {
    expect([...anchors('# FLAnts\n## Two commands\n### 2. DynamoDB hot keys (1,000 write units/s per key)\n## Two commands')]).toEqual([
      'flants',
      'two-commands',
      '2-dynamodb-hot-keys-1000-write-unitss-per-key',
      'two-commands-1',
    ]);
    expect([...anchors('## `flants verify`: prove a copy\n```\n# not a heading\n```')]).toEqual(['flants-verify-prove-a-copy']);
  });

  it.each(pages)('%s: every relative link resolves, fragments included', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const target of links(text)) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto: — not ours to check
      const [path, fragment] = target.split('#') as [string, string | undefined];
      const file = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURIComponent(path));
      if (!existsSync(file)) {
        broken.push(`${target}: no file ${relative(ROOT, file)}`);
        continue;
      }
      if (fragment !== undefined && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(fragment))
        broken.push(`${target}: ${relative(ROOT, file)} has no heading with the anchor #${fragment}`);
    }
    expect(broken).toEqual([]);
  });
});
