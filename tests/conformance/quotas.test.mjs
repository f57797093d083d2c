// Rate limits as the SDKs see them: @google/genai's ApiError 429 with the API's details, a client that waits
// RetryInfo.retryDelay and then succeeds, and the openai SDK's RateLimitError (and its own retry honouring retry-after).
//
// The server allows one request per "minute" per project, with Quotas:MinuteWindow shortened to 2 s: a test-only
// setting, because the API's windows are a real minute and a test that waited for one would take a minute a run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '@google/genai';
import OpenAI from 'openai';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT } from './common.mjs';

const castor = useCastor({
  config: { Castor: { Quotas: { DefaultTier: 'free', MinuteWindow: '00:00:02', Tiers: { free: { '*': { Rpm: 1 } } } } } },
});

const request = { model: GEMINI_MODEL, contents: PROMPT, config: { maxOutputTokens: 2 } };

/** Calls until one call is refused; with one request a 2 s window, the second or third of three quick calls is. */
async function firstRefusal(call) {
  for (let i = 0; i < 3; i++) {
    try {
      await call();
    } catch (e) {
      return e;
    }
  }
  assert.fail('three quick calls against one request per window were all admitted');
}

function details(error) {
  return JSON.parse(error.message).error.details;
}

describe('rate limits', () => {
  test('@google/genai sees ApiError 429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo', async () => {
    const ai = castor.client(await castor.createKey('genai-429'));
    const error = await firstRefusal(() => ai.models.generateContent(request));
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${error?.name}: ${error?.message}`);
    assert.equal(error.status, 429);
    const body = JSON.parse(error.message).error;
    assert.equal(body.code, 429);
    assert.equal(body.status, 'RESOURCE_EXHAUSTED');
    assert.match(body.message, /^You exceeded your current quota/);
    const failure = body.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure');
    assert.deepEqual(failure.violations[0].quotaDimensions, { location: 'global', model: 'stories260k' });
    assert.equal(failure.violations[0].quotaId, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
    assert.equal(failure.violations[0].quotaValue, '1');
    assert.ok(body.details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.Help'));
    const retry = body.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
    assert.match(retry.retryDelay, /^[12]s$/);
  });

  test('a client that waits retryDelay and retries succeeds', async () => {
    const ai = castor.client(await castor.createKey('genai-retry'));
    const error = await firstRefusal(() => ai.models.generateContentStream(request));
    const retry = details(error).find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
    const seconds = Number.parseFloat(retry.retryDelay);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const response = await ai.models.generateContent(request);
    assert.ok(response.usageMetadata.promptTokenCount > 0);
  });

  test('the openai SDK throws RateLimitError with retry-after, and its own retry waits for it and succeeds', async () => {
    const key = await castor.createKey('openai-429');
    const chat = { model: GEMINI_MODEL, messages: [{ role: 'user', content: 'Once' }], max_tokens: 2 };
    const once = new OpenAI({ apiKey: key, baseURL: `${castor.baseUrl}/v1beta/openai/`, maxRetries: 0 });
    const error = await firstRefusal(() => once.chat.completions.create(chat));
    assert.ok(error instanceof OpenAI.RateLimitError, `expected a RateLimitError, got ${error?.name}: ${error?.message}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.ok(Number(error.headers.get('retry-after')) >= 1);

    // The window is still exhausted; the SDK retries after retry-after (at most 2 s) and the next window admits it.
    const retrying = new OpenAI({ apiKey: key, baseURL: `${castor.baseUrl}/v1beta/openai/`, maxRetries: 2 });
    const completion = await retrying.chat.completions.create(chat);
    assert.ok(completion.choices[0].message.content !== undefined);
  });
});
