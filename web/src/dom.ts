/** Typed element lookup: a missing element is a build bug, so fail loudly. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type?: new () => T): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from index.html`);
  if (type !== undefined && !(el instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return el as T;
}
