/** Small DOM helpers of the runs table. Every dynamic text goes in through textContent. */

/** A new element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Set a cell's (or text node's) text only when it differs: an unchanged text costs no layout. */
export function setText(n: Node, text: string): void {
  if (n.textContent !== text) n.textContent = text;
}
