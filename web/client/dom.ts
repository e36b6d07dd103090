// Small DOM helpers. Text always goes in through textContent, so a file name is never markup.

type Props = Record<string, string | number | boolean | undefined>;

/** Creates an element with attributes (false/undefined ones are left out) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, props: Props = {}, ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children);
  return node;
}

/** Shows a short message in the page's status line, read out by screen readers. */
export function toast(message: string): void {
  const line = document.querySelector<HTMLElement>('[data-toast]');
  if (!line) return;
  line.textContent = message;
  line.hidden = false;
  clearTimeout(Number(line.dataset.timer));
  line.dataset.timer = String(setTimeout(() => { line.hidden = true; }, 2500));
}
