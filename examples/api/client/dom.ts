/** Tiny DOM helpers: typed lookups that fail loudly, and element creation without innerHTML. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
}

/** Creates an element with text content and attributes (text is never parsed as HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** Shows or clears the page's alert (role="alert" announces it). */
export function showAlert(message: string | null): void {
  const el = byId('alert');
  el.textContent = message ?? '';
  el.hidden = !message;
}

/** Polite screen-reader announcement of a completed action. */
export function announce(message: string): void {
  const el = byId('announce');
  el.textContent = '';
  // A fresh text node after clearing makes repeated identical messages announce again.
  setTimeout(() => {
    el.textContent = message;
  }, 50);
}
