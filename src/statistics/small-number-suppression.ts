/**
 * Small-number suppression for published tables (Board statistics). Any count from 1 to
 * threshold-1 is shown as "<threshold"; then secondary suppression hides further cells so
 * that no suppressed cell can be worked out from its row's or column's total: a row or
 * column with exactly one suppressed cell gets its smallest other non-zero cell suppressed
 * too (or its total, when there is no such cell). Zeros are shown: an empty cell identifies
 * nobody.
 */
export type Cell = number | string;

export const SECONDARY_MASK = '[c]';

export interface SuppressedTable {
  rows: string[];
  columns: string[];
  cells: Cell[][];
  rowTotals: Cell[];
  columnTotals: Cell[];
  total: Cell;
  threshold: number;
}

export function suppressTable(rows: string[], columns: string[], counts: number[][], threshold: number): SuppressedTable {
  const hidden = counts.map((r) => r.map((n) => n > 0 && n < threshold));
  const rowTotals = counts.map((r) => r.reduce((a, b) => a + b, 0));
  const columnTotals = columns.map((_, j) => counts.reduce((a, r) => a + r[j], 0));
  const total = rowTotals.reduce((a, b) => a + b, 0);
  const rowTotalHidden = rowTotals.map((n) => n > 0 && n < threshold);
  const columnTotalHidden = columnTotals.map((n) => n > 0 && n < threshold);
  let totalHidden = total > 0 && total < threshold;

  // Repeat until stable: each pass may create a new single suppressed cell elsewhere.
  for (let changed = true; changed; ) {
    changed = false;
    // A line is its cells plus its total; a lone hidden entry in a line can be recovered.
    const fixLine = (entries: Array<{ value: number; isHidden: () => boolean; hide: () => void }>) => {
      const hiddenCount = entries.filter((e) => e.isHidden()).length;
      if (hiddenCount !== 1) return;
      const candidates = entries.filter((e) => !e.isHidden() && e.value > 0).sort((a, b) => a.value - b.value);
      if (candidates.length === 0) return;
      candidates[0].hide();
      changed = true;
    };
    counts.forEach((r, i) => {
      fixLine([
        ...r.map((value, j) => ({ value, isHidden: () => hidden[i][j], hide: () => (hidden[i][j] = true) })),
        { value: rowTotals[i], isHidden: () => rowTotalHidden[i], hide: () => (rowTotalHidden[i] = true) },
      ]);
    });
    columns.forEach((_, j) => {
      fixLine([
        ...counts.map((r, i) => ({ value: r[j], isHidden: () => hidden[i][j], hide: () => (hidden[i][j] = true) })),
        { value: columnTotals[j], isHidden: () => columnTotalHidden[j], hide: () => (columnTotalHidden[j] = true) },
      ]);
    });
    fixLine([
      ...rowTotals.map((value, i) => ({ value, isHidden: () => rowTotalHidden[i], hide: () => (rowTotalHidden[i] = true) })),
      { value: total, isHidden: () => totalHidden, hide: () => (totalHidden = true) },
    ]);
    fixLine([
      ...columnTotals.map((value, j) => ({ value, isHidden: () => columnTotalHidden[j], hide: () => (columnTotalHidden[j] = true) })),
      { value: total, isHidden: () => totalHidden, hide: () => (totalHidden = true) },
    ]);
  }

  // Small counts read "<5"; larger ones hidden only to protect them read "[c]" (as ONS does).
  const show = (n: number, isHidden: boolean): Cell => (!isHidden ? n : n < threshold ? `<${threshold}` : SECONDARY_MASK);
  return {
    rows,
    columns,
    cells: counts.map((r, i) => r.map((n, j) => show(n, hidden[i][j]))),
    rowTotals: rowTotals.map((n, i) => show(n, rowTotalHidden[i])),
    columnTotals: columnTotals.map((n, j) => show(n, columnTotalHidden[j])),
    total: show(total, totalHidden),
    threshold,
  };
}
