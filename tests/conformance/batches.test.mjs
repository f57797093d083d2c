// The Batch API through @google/genai, as the Batch Mode docs use it: batches.create (inline and from a JSONL file),
// batches.get polled until the job ends, list, cancel, delete, createEmbeddings, and files.download of the responses file;
// and the openai SDK's files.create + batches.create + batches.retrieve + files.content, as the OpenAI compatibility page shows.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { PROMPT } from './common.mjs';
import { GEMINI_MODEL, useCastor } from './server.mjs';

// Frequent polls and short leases keep the tests quick; the defaults are for real jobs.
const castor = useCastor({ config: { Castor: { Batches: { PollInterval: '00:00:00.100', LeaseDuration: '00:00:03' } } } });
let dir;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castor-batches-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const completedStates = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

/** The docs' polling loop, with a short sleep. */
async function waitDone(ai, name) {
  for (let i = 0; i < 1200; i++) {
    const job = await ai.batches.get({ name });
    if (completedStates.has(job.state)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not finish`);
}

const request = (text) => ({ contents: [{ parts: [{ text }], role: 'user' }], config: { maxOutputTokens: 6, temperature: 0 } });

describe('batches', () => {
  test('create with inline requests, get until done, responses in order', async () => {
    const ai = castor.client();
    const job = await ai.batches.create({ model: GEMINI_MODEL, src: [request(PROMPT), request('Lily had a red ball')], config: { displayName: 'inline-job' } });
    assert.match(job.name, /^batches\//);
    assert.equal(job.displayName, 'inline-job');
    assert.ok(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING'].includes(job.state), job.state);

    const done = await waitDone(ai, job.name);
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    assert.ok(done.endTime);
    const responses = done.dest.inlinedResponses;
    assert.equal(responses.length, 2);
    for (const r of responses) {
      assert.ok(r.response.candidates[0].content.parts[0].text.length > 0);
      assert.ok(r.response.usageMetadata.promptTokenCount > 0);
    }
  });

  test('create from an uploaded JSONL file and download the responses file', async () => {
    const ai = castor.client();
    const path = join(dir, 'my-batch-requests.jsonl');
    const lines = ['request-1', 'request-2', 'request-3'].map((key, i) =>
      JSON.stringify({ key, request: { contents: [{ parts: [{ text: `Story ${i}` }] }], generation_config: { maxOutputTokens: 5 } } }));
    await writeFile(path, lines.join('\n') + '\n');
    const uploaded = await ai.files.upload({ file: path, config: { displayName: 'my-batch-requests', mimeType: 'jsonl' } });

    const job = await ai.batches.create({ model: GEMINI_MODEL, src: uploaded.name, config: { displayName: 'file-job' } });
    const done = await waitDone(ai, job.name);
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    assert.match(done.dest.fileName, /^files\//);

    const downloadPath = join(dir, 'results.jsonl');
    await ai.files.download({ file: done.dest.fileName, downloadPath });
    const results = (await readFile(downloadPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(results.map((r) => r.key).sort(), ['request-1', 'request-2', 'request-3']);
    for (const r of results) assert.ok(r.response.candidates[0].content.parts[0].text.length > 0);
  });

  test('list, cancel and delete', async () => {
    const ai = castor.client();
    const job = await ai.batches.create({ model: GEMINI_MODEL, src: Array.from({ length: 30 }, (_, i) => request(`Tale ${i}`)) });
    const listed = [];
    for await (const j of await ai.batches.list({ config: { pageSize: 2 } })) listed.push(j.name);
    assert.ok(listed.includes(job.name), `${job.name} not in ${listed}`);

    await ai.batches.cancel({ name: job.name });
    const cancelled = await waitDone(ai, job.name);
    assert.equal(cancelled.state, 'JOB_STATE_CANCELLED');

    await ai.batches.delete({ name: job.name });
    await assert.rejects(ai.batches.get({ name: job.name }), (e) => e.status === 404);
  });

  test('createEmbeddings with inline requests', async () => {
    const ai = castor.client();
    const job = await ai.batches.createEmbeddings({
      model: 'gemini-embedding-001',
      src: { inlinedRequests: { contents: ['a cat', 'a dog'], config: { outputDimensionality: 8, taskType: 'SEMANTIC_SIMILARITY' } } },
      config: { displayName: 'emb-job' },
    });
    const done = await waitDone(ai, job.name);
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    const responses = done.dest.inlinedEmbedContentResponses;
    assert.equal(responses.length, 2);
    for (const r of responses) assert.equal(r.response.embedding.values.length, 8);
  });

  test('openai: files.create, batches.create, batches.retrieve until completed, files.content', async () => {
    const openai = new OpenAI({ apiKey: castor.apiKey, baseURL: `${castor.baseUrl}/v1beta/openai/`, maxRetries: 0 });
    const lines = ['1', '2'].map((id) => JSON.stringify({
      custom_id: id, method: 'POST', url: '/v1/chat/completions',
      body: { model: GEMINI_MODEL, messages: [{ role: 'user', content: `${PROMPT} ${id}` }], max_tokens: 5 },
    }));
    const file = await openai.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'batch.jsonl'), purpose: 'batch' });
    assert.match(file.id, /^files\//);

    let batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    assert.equal(batch.object, 'batch');
    for (let i = 0; i < 1200 && !['completed', 'failed', 'cancelled', 'expired'].includes(batch.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      batch = await openai.batches.retrieve(batch.id);
    }
    assert.equal(batch.status, 'completed');
    assert.equal(batch.request_counts.completed, 2);

    const content = await (await openai.files.content(batch.output_file_id)).text();
    const results = content.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(results.map((r) => r.custom_id).sort(), ['1', '2']);
    for (const r of results) {
      assert.equal(r.response.status_code, 200);
      assert.ok(r.response.body.choices[0].message.content.length > 0);
    }
  });
});
