// The current majors of the clients users install today, side by side with the pinned ones of aisdk.test.mjs:
// `ai` 7 + `@ai-sdk/google` 4 (installed under the aliases `ai7` and `google4`), `@langchain/google-genai` 2 and
// Genkit with `@genkit-ai/google-genai`. Each sends what zod 4 writes by default: `.int()` as
// minimum/maximum ±(2^53−1), `.positive()` as exclusiveMinimum, `z.email()` as format plus pattern. Before issue 21
// Castor refused all of these with 400; now each output must parse with the very zod schema it came from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGoogleGenerativeAI } from 'google4';
import { generateObject, generateText, tool } from 'ai7';
import { ChatGoogleGenerativeAI } from '@langchain/google-genai';
import { genkit, z as genkitZ } from 'genkit';
import { googleAI } from '@genkit-ai/google-genai';
import { z } from 'zod';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT } from './common.mjs';

const castor = useCastor();
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const Person = z.object({
  age: z.number().int(),
  score: z.number().positive(),
  email: z.email(),
  pets: z.array(z.object({ name: z.string().max(10), legs: z.number().int().min(0).max(8) })).max(2),
});

const Weather = z.object({ city: z.string().max(12), days: z.number().int().positive(), limit: z.number().int() });

/** The AI SDK 4 provider; every request body it sends is kept in `sent`. */
function aiSdk() {
  const sent = [];
  const google = createGoogleGenerativeAI({
    baseURL: `${castor.baseUrl}/v1beta`,
    apiKey: castor.apiKey,
    fetch: async (url, init) => {
      sent.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
  return { google, sent };
}

describe('ai 7 + @ai-sdk/google 4', () => {
  test('generateObject with z.number().int(), .positive(), z.email() and an array of objects', async () => {
    const { google, sent } = aiSdk();
    const result = await generateObject({ model: google(GEMINI_MODEL), schema: Person, prompt: PROMPT, maxOutputTokens: 1500, seed: 3 });
    assert.deepEqual(Person.parse(result.object), result.object);
    // What went over the wire: the JSON Schema zod wrote, with the bounds Castor used to refuse.
    const schema = sent[0].generationConfig.responseJsonSchema;
    assert.deepEqual(schema.properties.age, { type: 'integer', minimum: -MAX_SAFE, maximum: MAX_SAFE });
    assert.deepEqual(schema.properties.score, { type: 'number', exclusiveMinimum: 0 });
    assert.equal(schema.properties.email.format, 'email');
    assert.ok(schema.properties.email.pattern, 'zod 4 sends a pattern for z.email()');
  });

  test('a forced tool with integer parameters', async () => {
    const { google, sent } = aiSdk();
    const result = await generateText({
      model: google(GEMINI_MODEL),
      prompt: 'What is the weather?',
      tools: { get_weather: tool({ description: 'Weather for a city', inputSchema: Weather }) },
      toolChoice: { type: 'tool', toolName: 'get_weather' },
      maxOutputTokens: 1500,
      seed: 5,
    });
    // Forced calls may come in parallel (the test model makes several); each must parse with the zod schema.
    assert.ok(result.toolCalls.length >= 1, JSON.stringify(result.content));
    for (const call of result.toolCalls) {
      assert.equal(call.toolName, 'get_weather');
      assert.deepEqual(Weather.parse(call.input), call.input);
    }
    assert.ok(JSON.stringify(sent[0].tools).includes(String(MAX_SAFE)), 'the tool schema carried zod\'s int bounds');
  });
});

describe('@langchain/google-genai 2', () => {
  const model = () => new ChatGoogleGenerativeAI({
    model: GEMINI_MODEL,
    apiKey: castor.apiKey,
    baseUrl: castor.baseUrl,
    maxOutputTokens: 1500,
    maxRetries: 0,
  });

  test('withStructuredOutput (function calling, the default) with zod 4 integer fields', async () => {
    const value = await model().withStructuredOutput(Weather).invoke(PROMPT);
    assert.deepEqual(Weather.parse(value), value);
  });

  test('withStructuredOutput with method jsonSchema (responseSchema)', async () => {
    const value = await model().withStructuredOutput(Weather, { method: 'jsonSchema' }).invoke(PROMPT);
    assert.deepEqual(Weather.parse(value), value);
  });

  test('bindTools with a zod 4 schema, forced', async () => {
    const message = await model()
      .bindTools([{ name: 'get_weather', description: 'Weather for a city', schema: Weather }], { tool_choice: 'any' })
      .invoke('What is the weather?');
    assert.ok(message.tool_calls.length >= 1, JSON.stringify(message.content));
    for (const call of message.tool_calls) {
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(Weather.parse(call.args), call.args);
    }
  });
});

// Genkit 1.x bundles zod 3 and converts with zod-to-json-schema, which reads no zod 4 schema (it sends an empty
// schema then), so its users write schemas with Genkit's own `z`: the same fields as Person.
const GenkitPerson = genkitZ.object({
  age: genkitZ.number().int(),
  score: genkitZ.number().positive(),
  email: genkitZ.string().email(),
  pets: genkitZ.array(genkitZ.object({ name: genkitZ.string().max(10), legs: genkitZ.number().int().min(0).max(8) })).max(2),
});

describe('Genkit with @genkit-ai/google-genai', () => {
  test('generate with output: { schema } (responseJsonSchema)', async () => {
    const ai = genkit({ plugins: [googleAI({ apiKey: castor.apiKey, baseUrl: castor.baseUrl })] });
    const response = await ai.generate({
      model: googleAI.model(GEMINI_MODEL),
      prompt: PROMPT,
      output: { schema: GenkitPerson },
      config: { maxOutputTokens: 1500, seed: 4 },
    });
    const output = response.output;
    assert.deepEqual(GenkitPerson.parse(output), output, `finishReason ${response.finishReason}: ${response.finishMessage} ${response.text}`);
  });
});
