/** Shell-style globs for names: `*` is any run of characters, `?` any one character, the rest literal. */

export function globToRegExp(glob: string, flags = ''): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`, `s${flags}`);
}
