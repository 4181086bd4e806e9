/**
 * The env file `flants lab up` writes for another shell to `source`, and `flants lab down` reads back
 * (it names the lab's process). Pure: the text in, the text out.
 */

/** The variable that carries the lab's process id in its env file. */
export const LAB_PID_VARIABLE = 'FLANTS_LAB_PID';

/** Quotes a value for a POSIX shell: single quotes, with each single quote closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+,=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `export NAME=value` lines, sorted by name, that `source` (sh, bash, zsh) reads. */
export function envFileText(env: Readonly<Record<string, string>>, header: readonly string[] = []): string {
  const names = Object.keys(env).sort();
  for (const name of names)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${JSON.stringify(name)}`);
  return [...header.map((h) => `# ${h}`), ...names.map((n) => `export ${n}=${shellQuote(env[n]!)}`)].join('\n') + '\n';
}

/** Reads back what envFileText wrote (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an "export NAME=value" line: ${line}`);
    const value = m[2]!;
    env[m[1]!] = value.startsWith("'") ? value.slice(1, -1).replaceAll(`'\\''`, "'") : value;
  }
  return env;
}
