// models.generateContentStream through @google/genai (Server-Sent Events).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FinishReason } from '@google/genai';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT, SEEDED, within } from './common.mjs';

const castor = useCastor();

describe('models.generateContentStream', () => {
  test('the chunks concatenate to the non-streamed text, and the last one carries finishReason and usage', async () => {
    const ai = castor.client();
    const request = { model: GEMINI_MODEL, contents: PROMPT, config: { ...SEEDED } };
    const whole = await ai.models.generateContent(request);

    const chunks = [];
    for await (const chunk of await ai.models.generateContentStream(request)) chunks.push(chunk);

    assert.ok(chunks.length > 0, 'the stream yielded no chunks');
    assert.equal(chunks.map((c) => c.text ?? '').join(''), whole.text);

    const last = chunks.at(-1);
    assert.equal(last.candidates?.[0]?.finishReason, whole.candidates[0].finishReason);
    assert.equal(typeof last.usageMetadata?.candidatesTokenCount, 'number', 'the last chunk has no candidatesTokenCount');
    assert.equal(last.usageMetadata.candidatesTokenCount, whole.usageMetadata.candidatesTokenCount);
    assert.equal(last.usageMetadata.promptTokenCount, whole.usageMetadata.promptTokenCount);
    assert.equal(last.usageMetadata.totalTokenCount, last.usageMetadata.promptTokenCount + last.usageMetadata.candidatesTokenCount);
    for (const [i, chunk] of chunks.slice(0, -1).entries()) {
      assert.equal(chunk.candidates?.[0]?.finishReason, undefined, `chunk ${i} of ${chunks.length} has a finishReason`);
    }
    // One response, one id.
    assert.ok(last.responseId, 'the last chunk has no responseId');
    assert.deepEqual(new Set(chunks.map((c) => c.responseId)), new Set([last.responseId]));
  });

  test('stopSequences in a stream: no chunk carries the stop string, and the chunks join to the text before it', async () => {
    const ai = castor.client();
    const full = (await ai.models.generateContent({ model: GEMINI_MODEL, contents: PROMPT, config: { ...SEEDED } })).text;

    // Two words from the middle of the seeded output: a stop string several tokens long, likely to span chunks.
    const words = [...full.matchAll(/[A-Za-z]+ [A-Za-z]+/g)].filter((m) => m.index >= 8 && full.indexOf(m[0]) === m.index);
    assert.ok(words.length > 0, `no usable stop string in the seeded output ${JSON.stringify(full)}`);
    const stop = words[Math.floor(words.length / 2)][0];
    const expected = full.slice(0, full.indexOf(stop));

    const chunks = [];
    const request = { model: GEMINI_MODEL, contents: PROMPT, config: { ...SEEDED, stopSequences: [stop] } };
    for await (const chunk of await ai.models.generateContentStream(request)) chunks.push(chunk);

    const texts = chunks.map((c) => c.text ?? '');
    const joined = texts.join('');
    assert.ok(!joined.includes(stop), `streamed text ${JSON.stringify(texts)} contains the stop string ${JSON.stringify(stop)}`);
    assert.equal(joined, expected, `stop string ${JSON.stringify(stop)} in ${JSON.stringify(full)}`);
    assert.equal(chunks.at(-1).candidates?.[0]?.finishReason, FinishReason.STOP);
  });

  test('config.abortSignal aborted after the first chunk stops the iteration promptly', async () => {
    const ai = castor.client();
    const controller = new AbortController();
    // Long enough that the server is still generating when the client aborts.
    const config = { maxOutputTokens: 1500, seed: 5, abortSignal: controller.signal };

    const chunks = [];
    let abortedAt;
    let thrown;
    await within(30_000, 'the aborted stream', (async () => {
      try {
        for await (const chunk of await ai.models.generateContentStream({ model: GEMINI_MODEL, contents: PROMPT, config })) {
          chunks.push(chunk);
          if (chunks.length === 1) {
            abortedAt = Date.now();
            controller.abort();
          }
        }
      } catch (e) {
        thrown = e;
      }
    })());
    const stoppedAfter = Date.now() - abortedAt;

    assert.ok(chunks.length > 0, `the stream failed before its first chunk: ${thrown}`);
    assert.equal(chunks[0].candidates?.[0]?.finishReason, undefined, 'the whole generation fit in the first chunk; nothing was left to abort');
    // Events that arrived in the same read as the first one are already parsed when the abort lands, so the
    // SDK may yield a few more; what matters is that it stops rather than draining the 1,500-token stream.
    assert.ok(chunks.length <= 5, `iteration went on after the abort (${chunks.length} chunks)`);
    assert.equal(chunks.at(-1).candidates?.[0]?.finishReason, undefined, 'the stream ran to its end despite the abort');
    if (thrown) assert.equal(thrown.name, 'AbortError', `unexpected error: ${thrown}`);
    assert.ok(stoppedAfter < 2_000, `the iteration ended ${stoppedAfter} ms after the abort`);

    // The server is still serving afterwards.
    const next = await within(10_000, 'a request after the abort', ai.models.generateContent({
      model: GEMINI_MODEL, contents: PROMPT, config: { maxOutputTokens: 8 },
    }));
    assert.ok(next.text?.length > 0);
  });
});

describe('chats.sendMessageStream', () => {
  test('streams a reply and records it in the chat history', async () => {
    const ai = castor.client();
    const chat = ai.chats.create({ model: GEMINI_MODEL, config: { maxOutputTokens: 20, seed: 11 } });

    const texts = [];
    let last;
    for await (const chunk of await chat.sendMessageStream({ message: PROMPT })) {
      texts.push(chunk.text ?? '');
      last = chunk;
    }
    assert.ok(texts.join('').length > 0, 'the streamed reply is empty');
    assert.ok(last.candidates?.[0]?.finishReason, 'the last chunk has no finishReason');

    // @google/genai records the user turn, then one model content per streamed chunk.
    const [user, ...replies] = chat.getHistory();
    assert.equal(user.role, 'user');
    assert.ok(replies.length > 0, 'the reply was not recorded (the SDK drops a stream that ends without finishReason)');
    assert.ok(replies.every((c) => c.role === 'model'), `roles: ${replies.map((c) => c.role).join(', ')}`);
    assert.equal(replies.flatMap((c) => c.parts.map((p) => p.text ?? '')).join(''), texts.join(''));
  });
});
