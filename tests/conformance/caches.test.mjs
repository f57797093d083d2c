// Explicit context caching through @google/genai (caches.create/get/list/update/delete and generateContent with
// config.cachedContent, as the Gemini docs show them) and through the openai SDK (extra_body.google.cached_content).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { apiError } from './common.mjs';
import { GEMINI_MODEL, useCastor } from './server.mjs';

// The test model's caches may be small; the API's default minimum (1,024 tokens) is tested in the integration tests.
const castor = useCastor({ config: { Castor: { ModelSettings: { stories260k: { MinCacheTokens: 64 } } } } });

const MODEL = `models/${GEMINI_MODEL}`;
const DOCUMENT =
  'Once upon a time there was a little girl named Lily. She loved to play in the park with her red ball. ' +
  'One day she saw a big dog near the tree. The dog was sad because it had lost its bone. Lily wanted to help. ' +
  'She looked under the bench and behind the slide. At last she found the bone in the sand. ';
const SYSTEM = 'You tell short stories about the document.';
const QUESTION = 'What did Lily find?';
const SEEDED = { seed: 42, temperature: 1, maxOutputTokens: 20 };

const createCache = (ai, config = {}) =>
  ai.caches.create({
    model: MODEL,
    config: { displayName: 'lily', systemInstruction: SYSTEM, contents: [{ role: 'user', parts: [{ text: DOCUMENT }] }], ttl: '300s', ...config },
  });

describe('caches', () => {
  test('create, get, list (paged), update ttl and expireTime, delete', async () => {
    const ai = castor.client();
    const cache = await createCache(ai);
    assert.match(cache.name, /^cachedContents\/[a-z0-9-]+$/);
    assert.equal(cache.model, MODEL);
    assert.equal(cache.displayName, 'lily');
    assert.ok(cache.usageMetadata.totalTokenCount >= 64, `${cache.usageMetadata.totalTokenCount} tokens`);
    assert.equal(Date.parse(cache.expireTime) - Date.parse(cache.createTime), 300_000);

    const got = await ai.caches.get({ name: cache.name });
    assert.deepEqual(got, cache);

    const second = await createCache(ai, { displayName: 'second' });
    const names = [];
    const pager = await ai.caches.list({ config: { pageSize: 1 } });
    for await (const c of pager) names.push(c.name);
    assert.deepEqual(names.sort(), [cache.name, second.name].sort());

    const longer = await ai.caches.update({ name: cache.name, config: { ttl: '7200s' } });
    assert.equal(Date.parse(longer.expireTime) - Date.parse(longer.updateTime), 7_200_000);
    const until = await ai.caches.update({ name: cache.name, config: { expireTime: '2030-01-01T00:00:00Z' } });
    assert.equal(until.expireTime, '2030-01-01T00:00:00.000Z');

    await ai.caches.delete({ name: cache.name });
    await ai.caches.delete({ name: second.name });
    await assert.rejects(ai.caches.get({ name: cache.name }), apiError(403, 'CachedContent not found'));
  });

  test('generateContent with config.cachedContent answers as the same contents inline', async () => {
    const ai = castor.client();
    const cache = await createCache(ai);
    const cached = await ai.models.generateContent({ model: GEMINI_MODEL, contents: QUESTION, config: { cachedContent: cache.name, ...SEEDED } });
    const inline = await ai.models.generateContent({
      model: GEMINI_MODEL,
      contents: [{ role: 'user', parts: [{ text: DOCUMENT }] }, { role: 'user', parts: [{ text: QUESTION }] }],
      config: { systemInstruction: SYSTEM, ...SEEDED },
    });
    assert.equal(cached.text, inline.text);
    assert.equal(cached.usageMetadata.promptTokenCount, inline.usageMetadata.promptTokenCount);
    assert.equal(cached.usageMetadata.cachedContentTokenCount, cache.usageMetadata.totalTokenCount);

    let streamed = '';
    for await (const chunk of await ai.models.generateContentStream({ model: GEMINI_MODEL, contents: QUESTION, config: { cachedContent: cache.name, ...SEEDED } }))
      streamed += chunk.text ?? '';
    assert.equal(streamed, inline.text);
  });

  test('the openai SDK uses a cache named in extra_body.google.cached_content', async () => {
    const cache = await createCache(castor.client());
    const openai = new OpenAI({ apiKey: castor.apiKey, baseURL: `${castor.baseUrl}/v1beta/openai/`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: GEMINI_MODEL,
      messages: [{ role: 'user', content: QUESTION }],
      max_tokens: 8,
      extra_body: { google: { cached_content: cache.name } },
    });
    assert.equal(completion.usage.prompt_tokens_details.cached_tokens, cache.usageMetadata.totalTokenCount);
  });

  test('bad input: unknown cache, another project, malformed ttl, expireTime without a zone', async () => {
    const ai = castor.client();
    await assert.rejects(ai.caches.get({ name: 'cachedContents/unknown123' }), apiError(403, 'cachedContents/unknown123'));
    await assert.rejects(
      ai.models.generateContent({ model: GEMINI_MODEL, contents: QUESTION, config: { cachedContent: 'cachedContents/unknown123' } }),
      apiError(403, 'cachedContent'),
    );
    await assert.rejects(createCache(ai, { ttl: '5 minutes' }), apiError(400, 'ttl'));
    await assert.rejects(createCache(ai, { ttl: undefined, expireTime: '2030-01-01T00:00:00' }), apiError(400, 'expireTime'));

    const cache = await createCache(ai);
    const other = castor.client(await castor.createKey('another-project'));
    await assert.rejects(other.caches.get({ name: cache.name }), apiError(403, 'CachedContent not found'));
    await assert.rejects(
      other.models.generateContent({ model: GEMINI_MODEL, contents: QUESTION, config: { cachedContent: cache.name } }),
      apiError(403, 'cachedContent'),
    );
    await assert.rejects(
      ai.models.generateContent({ model: GEMINI_MODEL, contents: QUESTION, config: { cachedContent: cache.name, systemInstruction: 'No.' } }),
      apiError(400, 'systemInstruction'),
    );
  });
});
