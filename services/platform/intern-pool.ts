/**
 * One copy of each of a small set of strings that recur across many objects (a session's gateway
 * id: a few gateways serve every user), where each decoded record brings its own copy. Bounded:
 * past `max` distinct strings it starts again from empty, so a flood of distinct ids costs a
 * Map of `max` entries, never more.
 */
export class InternPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly max = 65_536) {}

  intern(s: string): string {
    const known = this.pool.get(s);
    if (known !== undefined) return known;
    if (this.pool.size >= this.max) this.pool.clear();
    this.pool.set(s, s);
    return s;
  }

  get size(): number {
    return this.pool.size;
  }
}
