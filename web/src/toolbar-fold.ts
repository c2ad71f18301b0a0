/**
 * Which toolbar buttons fold into the overflow menu (pure; overflow.ts measures and moves them).
 *
 * Nothing folds while every shown button fits. Otherwise the More button takes its place at the
 * end and buttons fold, lowest priority first (among equals, the one further right first), until
 * the rest fits next to More. A button that is not shown (width 0) never folds, so it never leaves
 * an empty menu behind.
 */

export interface FoldItem {
  /** Its width in the toolbar, with its margin and the gap after it; 0 when it is not shown. */
  readonly width: number;
  /** Higher stays in the toolbar longer. */
  readonly priority: number;
}

/** For each item, in order, whether it goes into the menu. */
export function foldTools(items: readonly FoldItem[], available: number, moreWidth: number): boolean[] {
  const folded = items.map(() => false);
  let used = items.reduce((sum, item) => sum + item.width, 0);
  if (used <= available) return folded;
  const order = items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.width > 0)
    .sort((a, b) => a.item.priority - b.item.priority || b.index - a.index);
  for (const { item, index } of order) {
    if (used + moreWidth <= available) break;
    folded[index] = true;
    used -= item.width;
  }
  return folded;
}
