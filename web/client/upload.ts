// The upload page's drop zone: files arrive by drag-and-drop anywhere on the page, the picker, or
// a paste (Ctrl+V of a screenshot). Each is checked against the server's limits, then sent with
// its own progress bar; a few at a time, so one big file does not hold up the rest.
import { formatBytes } from '../../src/bytes.js';
import { ServerError, uploadFile } from './server.js';
import { rememberDeleteToken, savedUploadToken, saveUploadToken } from './tokens.js';
import { UploadItem } from './upload-item.js';

const PARALLEL = 3;

/** The form's choices of visibility and lifetime, as they stand when a file is sent. */
const termsOf = (form: HTMLFormElement): [string, string][] => {
  const fields = new FormData(form);
  return ['unlisted', 'expires_in', 'max_views'].flatMap((name) => {
    const value = fields.get(name);
    return typeof value === 'string' && value !== '' ? [[name, value] as [string, string]] : [];
  });
};

export interface UploadPage {
  form: HTMLFormElement;
  list: HTMLElement;
  /** Called once a batch of uploads has settled, so the recent grid can show the new images. */
  onUploaded: () => void;
}

export function setUpUploads({ form, list, onUploaded }: UploadPage): void {
  const maxBytes = Number(form.dataset.maxBytes);
  const types = new Set((form.dataset.types ?? '').split(','));
  const typeLabels = form.dataset.typeLabels ?? '';
  const input = form.querySelector<HTMLInputElement>('input[type="file"]');
  // Present when the server requires an upload token, or has users whose key is optional.
  const tokenInput = form.querySelector<HTMLInputElement>('input[name="upload_token"]');
  if (tokenInput) {
    tokenInput.value ||= savedUploadToken();
    tokenInput.addEventListener('change', () => { saveUploadToken(tokenInput.value); });
  }
  const queue: (() => Promise<void>)[] = [];
  let running = 0;

  /** Why the server would refuse this file, checked before sending it; null when it may go. */
  const refusal = (file: File): string | null => {
    if (tokenInput?.required === true && tokenInput.value === '') return 'enter the upload token first';
    if (file.size === 0) return 'the file is empty';
    if (file.size > maxBytes) return `the file is ${formatBytes(file.size)}; the limit is ${formatBytes(maxBytes)}`;
    // An empty type means the system did not recognise it: let the server look at the bytes.
    if (file.type !== '' && !types.has(file.type)) return `${file.type} is not an accepted image type (${typeLabels})`;
    return null;
  };

  const pump = (): void => {
    while (running < PARALLEL && queue.length > 0) {
      const job = queue.shift();
      if (!job) break;
      running++;
      void job().finally(() => {
        running--;
        pump();
        if (running === 0) onUploaded();
      });
    }
  };

  const add = (file: File): void => {
    const item = new UploadItem(file);
    list.prepend(item.node);
    const problem = refusal(file);
    if (problem !== null) { item.failed(new Error(problem)); return; }
    queue.push(async () => {
      try {
        const image = await uploadFile(file, tokenInput && tokenInput.value !== '' ? tokenInput.value : null, (sent) => { item.sending(sent); }, termsOf(form));
        rememberDeleteToken(image.id, image.delete_token);
        item.done(image);
      } catch (err) {
        const error = err instanceof ServerError ? err : new ServerError(String(err), 0);
        // Refused files stay refused; a busy server or a broken connection is worth another try.
        const retryable = error.status === 0 || error.status === 503 || error.status === 429;
        item.failed(error, retryable ? () => { add(file); } : undefined);
      }
    });
    pump();
  };
  const addAll = (files: Iterable<File>): void => { for (const file of files) add(file); };

  form.addEventListener('submit', (event) => { event.preventDefault(); if (input?.files) addAll(input.files); });
  input?.addEventListener('change', () => {
    if (input.files) addAll(input.files);
    input.value = '';
  });

  // Dropping anywhere on the page uploads: a near miss should not make the browser open the file.
  let depth = 0;
  const dragging = (on: boolean) => { form.classList.toggle('dragging', on); };
  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  document.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    depth++;
    dragging(true);
  });
  document.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event) || --depth > 0) return;
    depth = 0;
    dragging(false);
  });
  document.addEventListener('dragover', (event) => { if (carriesFiles(event)) event.preventDefault(); });
  document.addEventListener('drop', (event) => {
    if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    depth = 0;
    dragging(false);
    addAll(event.dataTransfer.files);
  });

  document.addEventListener('paste', (event) => {
    const files = event.clipboardData?.files;
    if (!files || files.length === 0) return;
    event.preventDefault();
    addAll(files);
  });
}
