// Cached contents and batch jobs: list and delete, through cachedContents.list/delete and batches.list/delete.
import { call, listAll } from './api.js';
import { $, el, fillTable, formatTime, showError } from './dom.js';

const kinds = {
  caches: {
    list: () => listAll('/v1beta/cachedContents', 'cachedContents'),
    row: (c) => [c.name, c.displayName ?? '', (c.model ?? '').replace(/^models\//, ''), c.usageMetadata?.totalTokenCount ?? '', formatTime(c.expireTime)],
    empty: 'No cached contents.',
  },
  batches: {
    // batches.list answers long-running operations; the job's fields are in each operation's metadata.
    list: () => listAll('/v1beta/batches', 'operations'),
    row: (op) => {
      const job = op.metadata ?? {};
      return [op.name, job.displayName ?? '', (job.model ?? '').replace(/^models\//, ''), job.state ?? '', formatTime(job.createTime)];
    },
    empty: 'No batch jobs.',
  },
};

async function remove(kind, name) {
  showError(`${kind}-error`, null);
  try {
    await call(`/v1beta/${name}`, { method: 'DELETE' });
    $(`${kind}-status`).textContent = `Deleted ${name}.`;
  } catch (error) {
    showError(`${kind}-error`, error);
  }
  await show(kind);
}

async function show(kind) {
  showError(`${kind}-error`, null);
  try {
    const items = await kinds[kind].list();
    fillTable($(`${kind}-table`), items.map((item) => {
      const [name, ...cells] = kinds[kind].row(item);
      return el('tr', { 'data-name': name },
        el('th', { scope: 'row' }, name),
        ...cells.map((cell) => el('td', {}, cell)),
        el('td', {}, el('button', { type: 'button', 'aria-label': `Delete ${name}`, onclick: () => remove(kind, name) }, 'Delete')));
    }), kinds[kind].empty);
  } catch (error) {
    showError(`${kind}-error`, error);
  }
}

export const showCaches = () => show('caches');
export const showBatches = () => show('batches');

export function init() {
  $('caches-refresh').addEventListener('click', showCaches);
  $('batches-refresh').addEventListener('click', showBatches);
}
