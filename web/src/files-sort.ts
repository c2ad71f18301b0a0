/**
 * The order of the Files panel's listing (pure): by a column, up or down, folders first, dot
 * files left out unless shown.
 */

export interface FileEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  readonly mtime: number;
  readonly mode: number;
}

export type SortKey = 'name' | 'size' | 'mtime' | 'mode';

export interface SortOrder {
  readonly key: SortKey;
  readonly descending: boolean;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

const byName = (a: FileEntry, b: FileEntry): number => collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The entries to show, in order: folders first (in either direction), then the column, then the name. */
export function sortEntries(entries: readonly FileEntry[], order: SortOrder, showHidden: boolean): FileEntry[] {
  const sign = order.descending ? -1 : 1;
  const column = (a: FileEntry, b: FileEntry): number => {
    switch (order.key) {
      case 'size': return a.size - b.size;
      case 'mtime': return a.mtime - b.mtime;
      case 'mode': return (a.mode & 0o7777) - (b.mode & 0o7777);
      default: return byName(a, b);
    }
  };
  return entries
    .filter((e) => showHidden || !e.name.startsWith('.'))
    .sort((a, b) => Number(b.type === 'directory') - Number(a.type === 'directory') || sign * column(a, b) || byName(a, b));
}

/** A click on column `key`: the same column flips, another starts ascending (name) or descending (size, time). */
export function nextOrder(current: SortOrder, key: SortKey): SortOrder {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key === 'size' || key === 'mtime' };
}
