// The playground: one streamGenerateContent call (server-sent events read from fetch's ReadableStream), its text as it
// arrives, its usageMetadata, and the same request as curl and @google/genai code.
import { call, listAll } from './api.js';
import { $, el } from './dom.js';
import { curlSnippet, javaScriptSnippet } from './snippets.js';

let controller = null;
let modelsLoaded = false;

/** The request the settings describe: { model, body } in the API's own field names, or throws on a bad setting. */
export function currentRequest() {
  const model = $('model').value;
  const body = { contents: [{ role: 'user', parts: [{ text: $('prompt').value }] }] };
  const system = $('system-instruction').value;
  if (system.trim()) body.systemInstruction = { parts: [{ text: system }] };

  const config = {};
  const number = (id, field, parse) => {
    const text = $(id).value.trim();
    if (!text) return;
    const value = parse(text);
    if (!Number.isFinite(value)) throw new Error(`${$(id).labels[0].textContent} must be a number.`);
    config[field] = value;
  };
  number('temperature', 'temperature', Number.parseFloat);
  number('top-p', 'topP', Number.parseFloat);
  number('top-k', 'topK', (t) => Number.parseInt(t, 10));
  number('max-output-tokens', 'maxOutputTokens', (t) => Number.parseInt(t, 10));
  const schema = $('json-schema').value.trim();
  if (schema) {
    try {
      config.responseJsonSchema = JSON.parse(schema);
    } catch (error) {
      throw new Error(`The JSON schema is not valid JSON: ${error.message}`);
    }
    config.responseMimeType = 'application/json';
  }
  if (Object.keys(config).length) body.generationConfig = config;
  return { model, body };
}

function updateSnippets() {
  let request;
  try {
    request = currentRequest();
  } catch (error) {
    $('snippet-curl').textContent = $('snippet-js').textContent = error.message;
    return;
  }
  const origin = location.origin + (location.pathname.replace(/\/console(\/.*)?$/, ''));
  $('snippet-curl').textContent = curlSnippet(origin, request);
  $('snippet-js').textContent = javaScriptSnippet(origin, request);
}

function setUsage(usage) {
  $('usage-prompt').textContent = usage?.promptTokenCount ?? '–';
  $('usage-output').textContent = usage?.candidatesTokenCount ?? '–';
  $('usage-thoughts').textContent = usage?.thoughtsTokenCount ?? '–';
  $('usage-total').textContent = usage?.totalTokenCount ?? '–';
}

/** Splits a growing SSE text into complete events' data payloads; returns [payloads, rest]. */
export function takeEvents(buffer) {
  const payloads = [];
  for (;;) {
    const match = /\r?\n\r?\n/.exec(buffer);
    if (!match) return [payloads, buffer];
    const event = buffer.slice(0, match.index);
    buffer = buffer.slice(match.index + match[0].length);
    const data = event.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length) payloads.push(data.join('\n'));
  }
}

async function send(event) {
  event.preventDefault();
  $('playground-error').textContent = '';
  let request;
  try {
    request = currentRequest();
    if (!request.model) throw new Error('Choose a model.');
    if (!$('prompt').value.trim()) throw new Error('Write a prompt.');
  } catch (error) {
    $('playground-error').textContent = error.message;
    return;
  }

  const output = $('output');
  output.replaceChildren();
  output.dataset.state = 'streaming';
  output.dataset.reads = '0';
  output.setAttribute('aria-busy', 'true');
  setUsage(null);
  $('finish-reason').textContent = '–';
  $('send').disabled = true;
  $('stop').disabled = false;
  controller = new AbortController();
  let reads = 0;
  try {
    const response = await call(`/v1beta/models/${request.model.split('/').map(encodeURIComponent).join('/')}:streamGenerateContent?alt=sse`, {
      method: 'POST', body: request.body, signal: controller.signal, headers: { accept: 'text/event-stream' },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let payloads;
      [payloads, buffer] = takeEvents(buffer + value);
      let text = '';
      for (const payload of payloads) {
        const chunk = JSON.parse(payload);
        if (chunk.error) throw new Error(`${chunk.error.status ?? ''}: ${chunk.error.message}`);
        const candidate = chunk.candidates?.[0];
        for (const part of candidate?.content?.parts ?? []) if (part.text && !part.thought) text += part.text;
        if (candidate?.finishReason) $('finish-reason').textContent = candidate.finishReason;
        if (chunk.usageMetadata) setUsage(chunk.usageMetadata);
      }
      // One text node per read: the text shows as it arrives, and the count of reads that added text is visible.
      if (text) {
        output.append(text);
        output.dataset.reads = String(++reads);
      }
    }
    output.dataset.state = 'done';
  } catch (error) {
    output.dataset.state = error.name === 'AbortError' ? 'stopped' : 'failed';
    if (error.name !== 'AbortError') $('playground-error').textContent = error.message;
  } finally {
    output.setAttribute('aria-busy', 'false');
    $('send').disabled = false;
    $('stop').disabled = true;
    controller = null;
  }
}

async function loadModels() {
  const select = $('model');
  try {
    const models = await listAll('/v1beta/models', 'models');
    const generating = models.filter((m) => (m.supportedGenerationMethods ?? []).includes('generateContent'));
    select.replaceChildren(...generating.map((m) => {
      const id = m.name.replace(/^models\//, '');
      return el('option', { value: id }, m.displayName && m.displayName !== id ? `${id} (${m.displayName})` : id);
    }));
    modelsLoaded = true;
  } catch (error) {
    $('playground-error').textContent = `Could not list models: ${error.message}`;
  }
  updateSnippets();
}

export function init() {
  $('playground-form').addEventListener('submit', send);
  $('playground-form').addEventListener('input', updateSnippets);
  $('playground-form').addEventListener('change', updateSnippets);
  $('stop').addEventListener('click', () => controller?.abort());
  for (const button of document.querySelectorAll('button.copy')) {
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText($(button.dataset.copy).textContent);
        $('copy-status').textContent = 'Copied.';
      } catch {
        $('copy-status').textContent = 'The browser did not allow copying; select the text instead.';
      }
    });
  }
  updateSnippets();
}

export function show() {
  if (!modelsLoaded) loadModels();
}

export function reset() {
  controller?.abort();
  modelsLoaded = false;
  $('model').replaceChildren();
  $('output').replaceChildren();
  $('output').dataset.state = 'idle';
  setUsage(null);
  $('playground-error').textContent = '';
}
