// Sign-in, navigation between the pages, and sign-out. The key lives only in this tab's sessionStorage.
import { json, storedKey, storeKey, forgetKey } from './api.js';
import { $ } from './dom.js';
import * as playground from './playground.js';
import * as models from './models.js';
import * as files from './files.js';
import * as collections from './collections.js';
import * as usage from './usage.js';
import * as admin from './admin.js';

const pages = {
  playground: () => playground.show(),
  models: () => models.show(),
  files: () => files.show(),
  caches: () => collections.showCaches(),
  batches: () => collections.showBatches(),
  usage: () => usage.show(),
  admin: () => admin.show(),
};

function signedIn(on) {
  $('sign-in').hidden = on;
  $('nav').hidden = !on;
  $('sign-out').hidden = !on;
  if (!on) for (const page of document.querySelectorAll('.page')) page.hidden = true;
  if (!on) showAdmin(false);
}

/** The admin navigation and filters appear only for a key the server itself answers as admin. */
function showAdmin(on) {
  $('nav-admin').hidden = !on;
  usage.setAdmin(on);
  if (!on) admin.reset();
}

async function detectAdmin() {
  try {
    showAdmin(await admin.isAdmin());
  } catch {
    // The server could not say (down, or an older server without the route): show nothing admin.
    showAdmin(false);
  }
  document.body.dataset.admin = $('nav-admin').hidden ? 'false' : 'true';
}

function open(name) {
  for (const button of document.querySelectorAll('#nav button')) {
    if (button.dataset.page === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  for (const page of document.querySelectorAll('.page')) page.hidden = page.id !== `page-${name}`;
  pages[name]();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('api-key');
  const key = input.value.trim();
  $('sign-in-error').textContent = '';
  if (!key) {
    $('sign-in-error').textContent = 'Enter an API key.';
    input.focus();
    return;
  }
  $('sign-in-button').disabled = true;
  try {
    // models.list needs a valid key and nothing else: a wrong key answers the API's own error, shown as it is.
    await json('/v1beta/models?pageSize=1', { key });
    storeKey(key);
    input.value = '';
    signedIn(true);
    open('playground');
    $('model').focus();
    await detectAdmin();
  } catch (error) {
    $('sign-in-error').textContent = `Sign-in failed: ${error.message}`;
    input.focus();
  } finally {
    $('sign-in-button').disabled = false;
  }
}

function signOut() {
  forgetKey();
  playground.reset();
  delete document.body.dataset.admin;
  signedIn(false);
  $('api-key').focus();
}

$('sign-in-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', signOut);
for (const button of document.querySelectorAll('#nav button')) button.addEventListener('click', () => open(button.dataset.page));
playground.init();
files.init();
collections.init();
usage.init();
admin.init();

if (storedKey()) {
  signedIn(true);
  open('playground');
  detectAdmin();
} else {
  signedIn(false);
}
document.body.dataset.ready = 'true';
