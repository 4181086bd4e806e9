/** "1 class", "2 classes": a count with its noun in the right number. Pure. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
