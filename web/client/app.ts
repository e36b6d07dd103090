// The pages' script: each page works without it (plain form, links), and gets better with it.
import { setUpGrid } from './grid.js';
import { setUpImagePage } from './image-page.js';
import { setUpMyUploads } from './my-uploads.js';
import { clearPlaceholdersOnLoad } from './placeholders.js';
import { setUpUploads } from './upload.js';

document.documentElement.classList.add('js');
clearPlaceholdersOnLoad();

const form = document.querySelector<HTMLFormElement>('form[data-upload]');
const list = document.querySelector<HTMLElement>('[data-uploads]');
const gridNode = document.querySelector<HTMLElement>('[data-grid]');
const grid = gridNode ? setUpGrid(gridNode) : null;
const mineNode = document.querySelector<HTMLElement>('[data-mine]');
const keyInput = form?.querySelector<HTMLInputElement>('input[name="upload_token"]');
const mine = mineNode && keyInput ? setUpMyUploads(mineNode, keyInput) : null;
if (form && list) {
  setUpUploads({ form, list, onUploaded: () => { void grid?.refresh(); void mine?.refresh(); } });
}
// After the uploads' set-up, which fills the token field with the one this browser saved.
void mine?.refresh();

const article = document.querySelector<HTMLElement>('article[data-image]');
if (article) setUpImagePage(article);
