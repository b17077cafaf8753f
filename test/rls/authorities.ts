import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TestApp } from '../support/app';

/** Every quoted string in the other test files: authority codes they pin (WYE, HPL, ...) are among them. */
function codesPinnedElsewhere(): Set<string> {
  const pinned = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/'([A-Z0-9]{2,12})'/g)) pinned.add(m[1]);
    }
  };
  walk(join(__dirname, '..'));
  return pinned;
}

/**
 * Authorities for this directory's cases, chosen at random among those no other test file pins
 * or picks first (other files' lists and counts per authority stay exact when run alongside).
 */
export async function authoritiesFor(t: TestApp, region: string | null, n: number): Promise<string[]> {
  const pinned = codesPinnedElsewhere();
  const rows: Array<{ code: string }> = await t.owner.query(
    `SELECT code FROM authorities WHERE is_current AND region IS NOT NULL AND ($1::text IS NULL OR region = $1) AND code NOT LIKE 'E0600000%' ORDER BY code`, [region]);
  // Other files take the first codes in order (test/break-glass/fixtures.ts freshAuthority): leave the first 60 alone.
  const free = rows.map((r) => r.code).filter((c, i) => !pinned.has(c) && (region !== null || i >= 60));
  const picked: string[] = [];
  while (picked.length < n && free.length > 0) picked.push(free.splice(Math.floor(Math.random() * free.length), 1)[0]);
  if (picked.length < n) throw new Error(`not enough free authorities in ${region ?? 'any region'}`);
  return picked;
}

/** A `used` set for freshAuthority (test/break-glass/fixtures.ts) that leaves it only authorities picked by `authoritiesFor`. */
export async function usedAllBut(t: TestApp, n = 4): Promise<Set<string>> {
  const keep = new Set(await authoritiesFor(t, null, n));
  const rows: Array<{ code: string }> = await t.owner.query(`SELECT code FROM authorities`);
  return new Set(rows.map((r) => r.code).filter((c) => !keep.has(c)));
}
