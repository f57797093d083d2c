// models.generateContent, chats and countTokens through @google/genai.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FinishReason } from '@google/genai';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT, SEEDED } from './common.mjs';

const castor = useCastor();

describe('models.generateContent', () => {
  test('a string prompt returns text, MAX_TOKENS and consistent usage metadata', async () => {
    const ai = castor.client();
    const response = await ai.models.generateContent({
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { maxOutputTokens: 16, seed: 7 },
    });

    assert.equal(typeof response.text, 'string');
    assert.ok(response.text.length > 0, 'response.text is empty');
    assert.equal(response.candidates?.length, 1);
    assert.equal(response.candidates[0].finishReason, FinishReason.MAX_TOKENS);

    const usage = response.usageMetadata;
    assert.ok(usage, 'usageMetadata is missing');
    assert.equal(typeof usage.promptTokenCount, 'number');
    assert.ok(usage.promptTokenCount > 0, `promptTokenCount = ${usage.promptTokenCount}`);
    assert.equal(usage.candidatesTokenCount, 16, 'candidatesTokenCount equals maxOutputTokens when MAX_TOKENS');
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);

    assert.equal(typeof response.modelVersion, 'string');
    assert.ok(response.modelVersion.length > 0, 'modelVersion is empty');
    assert.equal(typeof response.responseId, 'string');
    assert.ok(response.responseId.length > 0, 'responseId is empty');
  });

  test('the same seed and request give the same text', async () => {
    const ai = castor.client();
    const request = { model: GEMINI_MODEL, contents: PROMPT, config: { ...SEEDED } };
    const first = await ai.models.generateContent(request);
    const second = await ai.models.generateContent(request);

    assert.ok(first.text.length > 0, 'first text is empty');
    assert.equal(second.text, first.text);
    assert.equal(second.usageMetadata.candidatesTokenCount, first.usageMetadata.candidatesTokenCount);
  });

  test('stopSequences ends the text just before the stop string, with finishReason STOP', async () => {
    const ai = castor.client();
    const full = (await ai.models.generateContent({ model: GEMINI_MODEL, contents: PROMPT, config: { ...SEEDED } })).text;

    // A word from the middle of the seeded output, at its first occurrence, so a non-empty prefix precedes it.
    const stop = [...full.matchAll(/[A-Za-z]{3,}/g)].find((m) => m.index >= 8 && full.indexOf(m[0]) === m.index)?.[0];
    assert.ok(stop, `no usable stop string in the seeded output ${JSON.stringify(full)}`);
    const expected = full.slice(0, full.indexOf(stop));

    const response = await ai.models.generateContent({
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { ...SEEDED, stopSequences: [stop] },
    });
    const text = response.text ?? '';
    assert.ok(!text.includes(stop), `text ${JSON.stringify(text)} contains the stop string ${JSON.stringify(stop)}`);
    assert.equal(text, expected, `stop string ${JSON.stringify(stop)} in ${JSON.stringify(full)}`);
    assert.equal(response.candidates[0].finishReason, FinishReason.STOP);
  });

  test('systemInstruction with a multi-turn contents array answers the last user turn', async () => {
    const ai = castor.client();
    const contents = [
      { role: 'user', parts: [{ text: 'Once upon a time there was a cat.' }] },
      { role: 'model', parts: [{ text: 'The cat liked to play in the sun.' }] },
      { role: 'user', parts: [{ text: 'One day' }] },
    ];
    const response = await ai.models.generateContent({
      model: GEMINI_MODEL,
      contents,
      config: { systemInstruction: 'Tell a short story.', maxOutputTokens: 16, seed: 1 },
    });

    assert.ok(response.text?.length > 0, 'response.text is empty');
    assert.ok(response.candidates[0].finishReason, 'finishReason is missing');
    // The history and the system instruction are part of the prompt, not just the last turn.
    const lastTurnOnly = await ai.models.countTokens({ model: GEMINI_MODEL, contents: [contents[2]] });
    assert.ok(
      response.usageMetadata.promptTokenCount > lastTurnOnly.totalTokens,
      `promptTokenCount ${response.usageMetadata.promptTokenCount} should exceed the last turn's ${lastTurnOnly.totalTokens}`,
    );
  });
});

describe('chats', () => {
  test('chats.create().sendMessage() twice keeps the conversation', async () => {
    const ai = castor.client();
    const chat = ai.chats.create({ model: GEMINI_MODEL, config: { maxOutputTokens: 16, seed: 3 } });

    const first = await chat.sendMessage({ message: PROMPT });
    assert.ok(first.text?.length > 0, 'first reply is empty');
    const second = await chat.sendMessage({ message: 'The next day' });
    assert.ok(second.text?.length > 0, 'second reply is empty');

    const history = chat.getHistory();
    assert.deepEqual(history.map((c) => c.role), ['user', 'model', 'user', 'model']);
    assert.equal(history[1].parts.map((p) => p.text).join(''), first.text);
    // The second request carried the first exchange.
    assert.ok(
      second.usageMetadata.promptTokenCount > first.usageMetadata.promptTokenCount,
      `second promptTokenCount ${second.usageMetadata.promptTokenCount} <= first ${first.usageMetadata.promptTokenCount}`,
    );
  });
});

describe('models.countTokens', () => {
  test('totalTokens for a string equals the promptTokenCount generateContent reports', async () => {
    const ai = castor.client();
    const counted = await ai.models.countTokens({ model: GEMINI_MODEL, contents: PROMPT });
    assert.equal(typeof counted.totalTokens, 'number');
    assert.ok(counted.totalTokens > 0, `totalTokens = ${counted.totalTokens}`);

    const generated = await ai.models.generateContent({ model: GEMINI_MODEL, contents: PROMPT, config: { maxOutputTokens: 4 } });
    assert.equal(counted.totalTokens, generated.usageMetadata.promptTokenCount);
  });

  test('totalTokens for a multi-turn conversation equals the promptTokenCount generateContent reports', async () => {
    const ai = castor.client();
    const contents = [
      { role: 'user', parts: [{ text: 'Once upon a time there was a dog.' }] },
      { role: 'model', parts: [{ text: 'The dog was happy.' }] },
      { role: 'user', parts: [{ text: 'Then' }] },
    ];
    const counted = await ai.models.countTokens({ model: GEMINI_MODEL, contents });
    const generated = await ai.models.generateContent({ model: GEMINI_MODEL, contents, config: { maxOutputTokens: 4 } });
    assert.ok(counted.totalTokens > 0, `totalTokens = ${counted.totalTokens}`);
    assert.equal(counted.totalTokens, generated.usageMetadata.promptTokenCount);
  });
});
