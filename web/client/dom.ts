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

/** A byte count in the units the page states its limits in: 820 KiB, 1.4 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${String(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit] ?? ''}`;
}
