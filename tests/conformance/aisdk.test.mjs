// The Vercel AI SDK (`ai` + `@ai-sdk/google`) against Castor: generateObject with a zod schema, generateText, streamText.
// ai-sdk converts zod to an OpenAPI-style responseSchema with lower-case types, and keeps only type, enum, required,
// properties, items, nullable, format, minLength and the any/all/oneOf combinators: maxLength, minimum/maximum and
// minItems/maxItems never reach the server. So the schema below bounds values with enums and the types alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { generateObject, generateText, streamText } from 'ai';
import { z } from 'zod';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT } from './common.mjs';

const castor = useCastor();

/** The provider as ai-sdk's docs set it up; every request body it sends is kept in `sent`. */
function provider() {
  const sent = [];
  const google = createGoogleGenerativeAI({
    baseURL: `${castor.baseUrl}/v1beta`,
    apiKey: castor.apiKey,
    fetch: async (url, init) => {
      sent.push({ url: String(url), body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body });
      return fetch(url, init);
    },
  });
  return { google, sent };
}

const Character = z.object({
  name: z.string(),
  mood: z.enum(['happy', 'sad', 'calm']),
  age: z.number().int(),
  brave: z.boolean(),
  pet: z.enum(['cat', 'dog']).nullable(),
  friends: z.array(z.enum(['Tom', 'Sue'])),
});

describe('ai-sdk generateObject', () => {
  test('a zod object schema: the object validates, and the request carried a lower-case responseSchema', async () => {
    const { google, sent } = provider();
    const result = await generateObject({
      model: google(GEMINI_MODEL),
      schema: Character,
      prompt: PROMPT,
      maxOutputTokens: 1500,
      seed: 3,
    });
    assert.deepEqual(Character.parse(result.object), result.object);
    assert.equal(result.finishReason, 'stop');
    assert.ok(result.usage.inputTokens > 0, `usage: ${JSON.stringify(result.usage)}`);
    assert.ok(result.usage.outputTokens > 0, `usage: ${JSON.stringify(result.usage)}`);

    // What ai-sdk sent: JSON mode with the converted schema (the wire-contract's aisdk:generateObject shape).
    assert.equal(sent.length, 1);
    assert.match(sent[0].url, /\/v1beta\/models\/gemini-2\.5-flash:generateContent$/);
    const config = sent[0].body.generationConfig;
    assert.equal(config.responseMimeType, 'application/json');
    assert.equal(config.responseSchema.type, 'object');
    assert.deepEqual(config.responseSchema.properties.mood, { type: 'string', enum: ['happy', 'sad', 'calm'] });
    assert.equal(config.responseSchema.properties.pet.nullable, true);
  });
});

describe('ai-sdk generateText and streamText', () => {
  test('generateText: text, finishReason length and usage numbers', async () => {
    const { google } = provider();
    const result = await generateText({ model: google(GEMINI_MODEL), prompt: PROMPT, maxOutputTokens: 16, seed: 3 });
    assert.ok(result.text.length > 0, 'text is empty');
    assert.equal(result.finishReason, 'length');
    const { inputTokens, outputTokens, totalTokens } = result.usage;
    assert.ok(Number.isInteger(inputTokens) && inputTokens > 0, `inputTokens ${inputTokens}`);
    assert.equal(outputTokens, 16);
    assert.equal(totalTokens, inputTokens + outputTokens);
  });

  test('streamText: the text chunks join to the text generateText gives for the same seed', async () => {
    const { google, sent } = provider();
    const request = { model: google(GEMINI_MODEL), prompt: PROMPT, maxOutputTokens: 24, seed: 11 };
    const whole = await generateText(request);

    const stream = streamText(request);
    const chunks = [];
    for await (const chunk of stream.textStream) chunks.push(chunk);
    assert.ok(chunks.length > 0, 'no text chunks');
    assert.equal(chunks.join(''), whole.text);
    assert.equal(await stream.text, whole.text);
    assert.equal(await stream.finishReason, 'length');
    const usage = await stream.usage;
    assert.equal(usage.outputTokens, 24);
    assert.equal(usage.inputTokens, whole.usage.inputTokens);
    assert.match(sent.at(-1).url, /:streamGenerateContent\?alt=sse$/);
  });
});
