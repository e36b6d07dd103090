// The pages' script: each page works without it (plain form, links), and gets better with it.
import { setUpGrid } from './grid.js';
import { setUpImagePage } from './image-page.js';
import { clearPlaceholdersOnLoad } from './placeholders.js';
import { setUpUploads } from './upload.js';

document.documentElement.classList.add('js');
clearPlaceholdersOnLoad();

const form = document.querySelector<HTMLFormElement>('form[data-upload]');
const list = document.querySelector<HTMLElement>('[data-uploads]');
const gridNode = document.querySelector<HTMLElement>('[data-grid]');
const grid = gridNode ? setUpGrid(gridNode) : null;
if (form && list) {
  setUpUploads({ form, list, onUploaded: () => { void grid?.refresh(); } });
}

const article = document.querySelector<HTMLElement>('article[data-image]');
if (article) setUpImagePage(article);
