// Thinking through @google/genai: thinkingConfig.thinkingBudget and includeThoughts, thought parts, thoughtsTokenCount.
// The server gets a second model, "thinker": stories260K configured with thought markers (<think> … </think>) and
// starting inside a thought, so it "thinks" until the budget is spent and Castor forces the end marker.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOCAL_MODEL, THINKER, thinkerConfig, useCastor } from './server.mjs';
import { PROMPT } from './common.mjs';

const MARKERS = /<\/?think>/;

const castor = useCastor({ config: thinkerConfig });

const BUDGET = 16;
// Thinking counts against maxOutputTokens; this leaves room for an answer after the budget.
const BASE = Object.freeze({ maxOutputTokens: 60, seed: 7, temperature: 1 });

const parts = (response) => response.candidates?.[0]?.content?.parts ?? [];
const thoughtText = (response) => parts(response).filter((p) => p.thought).map((p) => p.text ?? '').join('');

describe('thinkingConfig on a thinking model', () => {
  test('thinkingBudget 16 with includeThoughts: thought parts, thoughtsTokenCount near the budget, response.text without thoughts', async () => {
    const response = await castor.client().models.generateContent({
      model: THINKER,
      contents: PROMPT,
      config: { ...BASE, thinkingConfig: { thinkingBudget: BUDGET, includeThoughts: true } },
    });
    const all = parts(response);
    assert.ok(all.some((p) => p.thought === true), `no thought part: ${JSON.stringify(all)}`);
    assert.ok(all.some((p) => !p.thought && p.text), `no answer part: ${JSON.stringify(all)}`);
    // Thoughts come first.
    assert.ok(all.findIndex((p) => !p.thought) > all.findLastIndex((p) => p.thought), `thoughts after the answer: ${JSON.stringify(all)}`);

    const usage = response.usageMetadata;
    assert.equal(typeof usage.thoughtsTokenCount, 'number', `thoughtsTokenCount missing: ${JSON.stringify(usage)}`);
    // The budget, plus the few tokens of the forced end marker.
    assert.ok(usage.thoughtsTokenCount >= BUDGET && usage.thoughtsTokenCount <= BUDGET + 10,
      `thoughtsTokenCount ${usage.thoughtsTokenCount} is not within [${BUDGET}, ${BUDGET + 10}]`);
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount + usage.thoughtsTokenCount,
      `totalTokenCount: ${JSON.stringify(usage)}`);

    // @google/genai's .text leaves thought parts out.
    assert.ok(response.text?.length > 0, 'response.text is empty');
    assert.equal(response.text, all.filter((p) => !p.thought).map((p) => p.text).join(''));
    assert.doesNotMatch(response.text, MARKERS);
    assert.ok(thoughtText(response).length > 0, 'the thought text is empty');
    assert.doesNotMatch(thoughtText(response), MARKERS);
  });

  test('includeThoughts false: no thought parts, but thoughtsTokenCount > 0 and the same answer', async () => {
    const ai = castor.client();
    const request = (includeThoughts) => ({
      model: THINKER,
      contents: PROMPT,
      config: { ...BASE, thinkingConfig: { thinkingBudget: BUDGET, includeThoughts } },
    });
    const hidden = await ai.models.generateContent(request(false));
    assert.ok(parts(hidden).every((p) => !p.thought), `thought parts were returned: ${JSON.stringify(parts(hidden))}`);
    assert.ok(hidden.usageMetadata.thoughtsTokenCount > 0, `thoughtsTokenCount: ${JSON.stringify(hidden.usageMetadata)}`);
    assert.doesNotMatch(hidden.text ?? '', MARKERS);

    // The thoughts are only hidden: the same seed gives the same generation.
    const shown = await ai.models.generateContent(request(true));
    assert.equal(hidden.text, shown.text);
    assert.equal(hidden.usageMetadata.thoughtsTokenCount, shown.usageMetadata.thoughtsTokenCount);
  });

  test('thinkingBudget 0 turns thinking off: no thoughts, thoughtsTokenCount absent or 0', async () => {
    const response = await castor.client().models.generateContent({
      model: THINKER,
      contents: PROMPT,
      config: { ...BASE, thinkingConfig: { thinkingBudget: 0, includeThoughts: true } },
    });
    assert.ok(parts(response).every((p) => !p.thought), `thought parts: ${JSON.stringify(parts(response))}`);
    assert.ok(!response.usageMetadata.thoughtsTokenCount, `thoughtsTokenCount = ${response.usageMetadata.thoughtsTokenCount}`);
    assert.ok(response.text?.length > 0, 'response.text is empty');
    assert.doesNotMatch(response.text, MARKERS);
    const usage = response.usageMetadata;
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount, `usage: ${JSON.stringify(usage)}`);
  });

  test('streamed with includeThoughts: thought chunks come before answer chunks and join to the unstreamed parts', async () => {
    const ai = castor.client();
    const request = {
      model: THINKER,
      contents: PROMPT,
      config: { ...BASE, thinkingConfig: { thinkingBudget: BUDGET, includeThoughts: true } },
    };
    const whole = await ai.models.generateContent(request);

    const streamed = []; // one entry per part: { thought, text, chunk }
    const chunks = [];
    for await (const chunk of await ai.models.generateContentStream(request)) {
      chunks.push(chunk);
      for (const p of parts(chunk)) streamed.push({ thought: p.thought === true, text: p.text ?? '', chunk: chunks.length - 1 });
    }
    const lastThought = streamed.findLastIndex((p) => p.thought);
    const firstAnswer = streamed.findIndex((p) => !p.thought && p.text);
    assert.ok(lastThought >= 0, `no thought chunk: ${JSON.stringify(streamed)}`);
    assert.ok(firstAnswer >= 0, `no answer chunk: ${JSON.stringify(streamed)}`);
    assert.ok(lastThought < firstAnswer, `a thought came after the answer started: ${JSON.stringify(streamed)}`);

    assert.equal(streamed.filter((p) => p.thought).map((p) => p.text).join(''), thoughtText(whole));
    assert.equal(streamed.filter((p) => !p.thought).map((p) => p.text).join(''), whole.text);
    const last = chunks.at(-1);
    assert.ok(last.candidates?.[0]?.finishReason, 'the last chunk has no finishReason');
    assert.equal(last.usageMetadata?.thoughtsTokenCount, whole.usageMetadata.thoughtsTokenCount);
  });
});

describe('thinkingConfig on a model that cannot think', () => {
  test('is accepted and ignored: 200, no thought parts, no thoughtsTokenCount, the same text as without it', async () => {
    const ai = castor.client();
    const request = { model: LOCAL_MODEL, contents: PROMPT, config: { ...BASE } };
    const plain = await ai.models.generateContent(request);
    const response = await ai.models.generateContent({
      ...request,
      config: { ...BASE, thinkingConfig: { thinkingBudget: BUDGET, includeThoughts: true } },
    });
    assert.ok(parts(response).every((p) => !p.thought), `thought parts: ${JSON.stringify(parts(response))}`);
    assert.ok(!response.usageMetadata.thoughtsTokenCount, `thoughtsTokenCount = ${response.usageMetadata.thoughtsTokenCount}`);
    assert.equal(response.text, plain.text);
  });
});
