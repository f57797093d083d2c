// The project's files: upload with the API's resumable protocol (start, then chunks at the session URL, the last one
// finalizing), list, delete.
import { call, listAll, sameOriginPath } from './api.js';
import { $, el, fillTable, formatTime, showError } from './dom.js';

async function upload(file, displayName, progress) {
  const start = await call('/upload/v1beta/files', {
    method: 'POST',
    headers: {
      'X-Goog-Upload-Protocol': 'resumable',
      'X-Goog-Upload-Command': 'start',
      'X-Goog-Upload-Header-Content-Length': String(file.size),
      'X-Goog-Upload-Header-Content-Type': file.type || 'application/octet-stream',
    },
    body: { file: { displayName: displayName || file.name, mimeType: file.type || undefined } },
  });
  const session = sameOriginPath(start.headers.get('X-Goog-Upload-URL'));
  const granularity = Number.parseInt(start.headers.get('X-Goog-Upload-Chunk-Granularity') ?? '', 10) || 8 * 1024 * 1024;
  let offset = 0;
  for (;;) {
    const end = Math.min(offset + granularity, file.size);
    const last = end === file.size;
    const response = await call(session, {
      method: 'POST',
      headers: { 'X-Goog-Upload-Command': last ? 'upload, finalize' : 'upload', 'X-Goog-Upload-Offset': String(offset) },
      body: file.slice(offset, end),
    });
    offset = end;
    progress(file.size === 0 ? 1 : offset / file.size);
    if (last) return (await response.json()).file;
  }
}

async function remove(name) {
  showError('files-error', null);
  try {
    await call(`/v1beta/${name}`, { method: 'DELETE' });
    $('files-status').textContent = `Deleted ${name}.`;
  } catch (error) {
    showError('files-error', error);
  }
  await show();
}

export async function show() {
  showError('files-error', null);
  try {
    const files = await listAll('/v1beta/files', 'files');
    fillTable($('files-table'), files.map((f) => el('tr', { 'data-name': f.name },
      el('th', { scope: 'row' }, f.name),
      el('td', {}, f.displayName ?? ''),
      el('td', {}, f.mimeType ?? ''),
      el('td', {}, f.sizeBytes ?? ''),
      el('td', {}, f.state ?? ''),
      el('td', {}, formatTime(f.expirationTime)),
      el('td', {}, el('button', { type: 'button', 'aria-label': `Delete ${f.displayName || f.name}`, onclick: () => remove(f.name) }, 'Delete')),
    )), 'No files.');
  } catch (error) {
    showError('files-error', error);
  }
}

export function init() {
  $('files-refresh').addEventListener('click', show);
  $('upload-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError('files-error', null);
    const file = $('upload-file').files[0];
    if (!file) {
      showError('files-error', new Error('Choose a file to upload.'));
      $('upload-file').focus();
      return;
    }
    $('upload').disabled = true;
    $('upload-progress').value = 0;
    try {
      const uploaded = await upload(file, $('upload-display-name').value.trim(), (p) => { $('upload-progress').value = p; });
      $('files-status').textContent = `Uploaded ${uploaded.name} (${uploaded.displayName ?? file.name}).`;
      $('upload-form').reset();
    } catch (error) {
      showError('files-error', error);
    } finally {
      $('upload').disabled = false;
    }
    await show();
  });
}
