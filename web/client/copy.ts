// One-click copy. The Clipboard API needs a secure context (HTTPS or localhost); a host reached
// over plain HTTP on a LAN falls back to selecting the text and the older copy command.
import { toast } from './dom.js';

export async function copyText(text: string, what: string, fallbackInput?: HTMLInputElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const input = fallbackInput ?? Object.assign(document.createElement('input'), { value: text });
    if (!input.isConnected) document.body.append(input);
    input.select();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only way without the Clipboard API
    const copied = document.execCommand('copy');
    if (!fallbackInput) input.remove();
    if (!copied) { toast(`Press Ctrl+C to copy the ${what}`); return; }
  }
  toast(`Copied the ${what}`);
}
