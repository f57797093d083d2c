// The admin pages' keys part: GET|POST /v1beta/castor/keys and DELETE /v1beta/castor/keys/{id}. Shown only when the
// server answers GET /v1beta/castor/keys with 200 for the signed-in key; a 403 means an ordinary key, and nothing is faked.
import { call, json } from './api.js';
import { $, el, fillTable, formatTime, showError } from './dom.js';

/** true for an admin key, false for an ordinary one (403); other errors are thrown, not read as "not admin". */
export async function isAdmin() {
  try {
    await json('/v1beta/castor/keys');
    return true;
  } catch (error) {
    if (error.status === 403) return false;
    throw error;
  }
}

function hideNewKey() {
  $('new-key-value').value = '';
  $('new-key').hidden = true;
}

async function revoke(key) {
  showError('keys-error', null);
  const label = `${key.id} (project ${key.project}${key.displayName ? `, ${key.displayName}` : ''})`;
  if (!window.confirm(`Revoke key ${label}? Clients using it are refused from now on; this cannot be undone.`)) return;
  try {
    await call(`/v1beta/castor/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
    $('keys-status').textContent = `Revoked key ${key.id}.`;
  } catch (error) {
    showError('keys-error', error);
  }
  await show();
}

export async function show() {
  showError('keys-error', null);
  try {
    const { keys = [] } = await json('/v1beta/castor/keys');
    fillTable($('keys-table'), keys.map((key) => el('tr', { 'data-id': key.id },
      el('th', { scope: 'row' }, key.id),
      el('td', {}, key.project),
      el('td', {}, key.hint ?? ''),
      el('td', {}, key.displayName ?? ''),
      el('td', {}, key.admin ? 'admin' : 'ordinary'),
      el('td', {}, key.revokeTime ? `revoked ${formatTime(key.revokeTime)}` : 'active'),
      el('td', {}, formatTime(key.createTime)),
      el('td', {}, key.revokeTime ? '' : el('button', { type: 'button', 'aria-label': `Revoke key ${key.id}`, onclick: () => revoke(key) }, 'Revoke')))),
    'No keys.');
  } catch (error) {
    showError('keys-error', error);
  }
}

async function create(event) {
  event.preventDefault();
  showError('keys-error', null);
  hideNewKey();
  $('key-create').disabled = true;
  try {
    const body = { displayName: $('key-name').value.trim() || undefined, admin: $('key-admin').checked };
    const project = $('key-project').value.trim();
    if (project) body.project = project;
    const created = await json('/v1beta/castor/keys', { method: 'POST', body });
    $('new-key-value').value = created.key;
    $('new-key').hidden = false;
    $('keys-status').textContent = `Created key ${created.id} for project ${created.project}.`;
    $('key-form').reset();
    $('new-key-value').focus();
    $('new-key-value').select();
  } catch (error) {
    showError('keys-error', error);
  } finally {
    $('key-create').disabled = false;
  }
  await show();
}

async function copy() {
  try {
    await navigator.clipboard.writeText($('new-key-value').value);
    $('keys-status').textContent = 'Copied the new key.';
  } catch {
    $('new-key-value').select();
    $('keys-status').textContent = 'The browser did not allow copying; the key is selected, copy it with the keyboard.';
  }
}

/** Forgets what the page showed (a new clear key above all) when the key signs out. */
export function reset() {
  hideNewKey();
  $('keys-status').textContent = '';
  fillTable($('keys-table'), [], '');
}

export function init() {
  $('key-form').addEventListener('submit', create);
  $('keys-refresh').addEventListener('click', show);
  $('new-key-copy').addEventListener('click', copy);
  $('new-key-done').addEventListener('click', hideNewKey);
}
