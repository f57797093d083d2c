// Errors surface as the SDK's ApiError with the HTTP status and the Gemini error body.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT, apiError } from './common.mjs';

const castor = useCastor();

describe('errors', () => {
  test('a bad API key throws ApiError 400 API_KEY_INVALID', async () => {
    const ai = castor.client('not-a-castor-key');
    await assert.rejects(
      ai.models.generateContent({ model: GEMINI_MODEL, contents: PROMPT, config: { maxOutputTokens: 4 } }),
      apiError(400, 'API_KEY_INVALID'),
    );
  });

  test('an unknown model throws ApiError 404 NOT_FOUND', async () => {
    await assert.rejects(
      castor.client().models.generateContent({ model: 'no-such-model', contents: PROMPT, config: { maxOutputTokens: 4 } }),
      apiError(404, 'NOT_FOUND'),
    );
  });

  test('an out-of-range temperature throws ApiError 400 INVALID_ARGUMENT', async () => {
    await assert.rejects(
      castor.client().models.generateContent({ model: GEMINI_MODEL, contents: PROMPT, config: { temperature: 5, maxOutputTokens: 4 } }),
      apiError(400, 'INVALID_ARGUMENT'),
    );
  });

  test('a stream on an unknown model rejects with ApiError 404 before any chunk', async () => {
    const ai = castor.client();
    let chunks = 0;
    // The call itself rejects: the status is known before the stream is handed out.
    await assert.rejects(
      (async () => {
        const stream = await ai.models.generateContentStream({ model: 'no-such-model', contents: PROMPT, config: { maxOutputTokens: 4 } });
        for await (const _ of stream) chunks++;
      })(),
      apiError(404, 'NOT_FOUND'),
    );
    assert.equal(chunks, 0);
  });

  test('a stream with an out-of-range temperature rejects with ApiError 400 INVALID_ARGUMENT before any chunk', async () => {
    await assert.rejects(
      castor.client().models.generateContentStream({ model: GEMINI_MODEL, contents: PROMPT, config: { temperature: 5, maxOutputTokens: 4 } }),
      apiError(400, 'INVALID_ARGUMENT'),
    );
  });

  test('models.get on an unknown model throws ApiError 404 NOT_FOUND', async () => {
    await assert.rejects(castor.client().models.get({ model: 'no-such-model' }), apiError(404, 'NOT_FOUND'));
  });

  test('a bad API key on models.list throws ApiError 400 API_KEY_INVALID', async () => {
    await assert.rejects(castor.client('not-a-castor-key').models.list(), apiError(400, 'API_KEY_INVALID'));
  });
});
