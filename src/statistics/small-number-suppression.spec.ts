import fc from 'fast-check';
import { Cell, suppressTable } from './small-number-suppression';

const hiddenIn = (cells: Cell[]) => cells.filter((c) => typeof c === 'string').length;

describe('small-number suppression', () => {
  it('shows counts at or above the threshold and zeros, and masks small counts', () => {
    const t = suppressTable(['a', 'b'], ['x', 'y'], [[10, 0], [7, 12]], 5);
    expect(t.cells).toEqual([[10, 0], [7, 12]]);
    expect(t.total).toBe(29);
    const s = suppressTable(['a', 'b'], ['x', 'y', 'z'], [[10, 3, 8], [7, 12, 9]], 5);
    expect(s.cells[0][1]).toBe('<5');
  });

  it('hides a second cell so that a lone small cell cannot be recovered from its row total', () => {
    const t = suppressTable(['north'], ['open', 'closed', 'withdrawn'], [[9, 1, 20]], 5);
    expect(t.cells[0][1]).toBe('<5');
    // 9 is the smallest other non-zero cell in the row: hidden too, marked as secondary.
    expect(t.cells[0][0]).toBe('[c]');
    expect(t.cells[0][2]).toBe(20);
  });

  it('a single case in a table cannot be identified', () => {
    // One case in the North East, closed; everything else large.
    const t = suppressTable(['North East', 'London', 'South West'], ['open', 'closed'], [[0, 1], [30, 40], [25, 35]], 5);
    expect(t.cells[0][1]).toBe('<5');
    expect(t.rowTotals[0]).toBe('<5');
    // The column "closed" has another hidden cell, so the lone case cannot be subtracted out.
    const closedColumn = [t.cells[0][1], t.cells[1][1], t.cells[2][1], t.columnTotals[1]];
    expect(hiddenIn(closedColumn)).toBeGreaterThanOrEqual(2);
  });

  it('never leaves a row or column (with its total) with exactly one hidden entry when it could be avoided', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((r) => fc.integer({ min: 1, max: 5 }).chain((c) =>
          fc.array(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 60 })), { minLength: c, maxLength: c }), { minLength: r, maxLength: r }))),
        fc.integer({ min: 2, max: 10 }),
        (counts, threshold) => {
          const rows = counts.map((_, i) => `r${i}`);
          const cols = counts[0].map((_, j) => `c${j}`);
          const t = suppressTable(rows, cols, counts, threshold);
          // Every small non-zero count is hidden.
          counts.forEach((r, i) => r.forEach((n, j) => { if (n > 0 && n < threshold) expect(t.cells[i][j]).toBe(`<${threshold}`); }));
          // Shown values are the true ones.
          counts.forEach((r, i) => r.forEach((n, j) => { if (typeof t.cells[i][j] === 'number') expect(t.cells[i][j]).toBe(n); }));
          // No line has a single hidden entry while it still has a visible non-zero entry to hide.
          const lines: Array<{ entries: Cell[]; values: number[] }> = [
            ...counts.map((r, i) => ({ entries: [...t.cells[i], t.rowTotals[i]], values: [...r, r.reduce((a, b) => a + b, 0)] })),
            ...cols.map((_, j) => ({ entries: [...t.cells.map((r) => r[j]), t.columnTotals[j]], values: [...counts.map((r) => r[j]), counts.reduce((a, r) => a + r[j], 0)] })),
          ];
          for (const line of lines) {
            if (hiddenIn(line.entries) === 1) {
              const visibleNonZero = line.entries.filter((e, k) => typeof e === 'number' && line.values[k] > 0);
              expect(visibleNonZero).toHaveLength(0);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
