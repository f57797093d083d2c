// Structured output through @google/genai: responseSchema (the SDK's Type enum), responseJsonSchema, text/x.enum.
// Castor enforces the schema with a grammar while decoding, so whatever stories260K writes parses and validates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FinishReason, Type } from '@google/genai';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { PROMPT, apiError, assertValid, geminiSchemaToJsonSchema } from './common.mjs';

const castor = useCastor();

// Generous, so the grammar can always close the JSON; strings and arrays are bounded so it does so quickly.
const CONSTRAINED = Object.freeze({ maxOutputTokens: 1500, seed: 42, temperature: 1 });

/** Every field kind the docs list for responseSchema, each bounded; all required, so every key is present. */
const CHARACTER = Object.freeze({
  type: Type.OBJECT,
  properties: {
    name: { type: Type.STRING, maxLength: 8 },
    age: { type: Type.INTEGER, minimum: 1, maximum: 99 },
    pets: { type: Type.ARRAY, items: { type: Type.STRING, enum: ['cat', 'dog', 'fish'] }, minItems: 1, maxItems: 2 },
    brave: { type: Type.BOOLEAN },
    nickname: { type: Type.STRING, nullable: true, maxLength: 6 },
    mood: { type: Type.STRING, enum: ['happy', 'sad'] },
  },
  required: ['name', 'age', 'pets', 'brave', 'nickname', 'mood'],
});
const CHARACTER_KEYS = Object.keys(CHARACTER.properties);

/** Parses response.text as the one JSON text of a finished constrained generation. */
function parseJson(response) {
  assert.equal(response.candidates?.[0]?.finishReason, FinishReason.STOP, `finishReason; text: ${response.text}`);
  assert.equal(typeof response.text, 'string');
  try {
    return JSON.parse(response.text);
  } catch (e) {
    assert.fail(`response.text is not JSON (${e.message}): ${response.text}`);
  }
}

describe('responseSchema (Type enum)', () => {
  test('the JSON in response.text validates, with properties in alphabetical order', async () => {
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { ...CONSTRAINED, responseMimeType: 'application/json', responseSchema: CHARACTER },
    });
    const value = parseJson(response);
    assertValid(geminiSchemaToJsonSchema(CHARACTER), value, 'response.text');
    // Without propertyOrdering the API orders properties alphabetically.
    assert.deepEqual(Object.keys(value), [...CHARACTER_KEYS].sort());
    assert.ok(response.usageMetadata.candidatesTokenCount > 0);
  });

  test('propertyOrdering sets the order of the properties', async () => {
    const propertyOrdering = ['pets', 'name', 'nickname', 'mood', 'age', 'brave'];
    const schema = { ...CHARACTER, propertyOrdering };
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { ...CONSTRAINED, responseMimeType: 'application/json', responseSchema: schema },
    });
    const value = parseJson(response);
    assertValid(geminiSchemaToJsonSchema(CHARACTER), value, 'response.text');
    assert.deepEqual(Object.keys(value), propertyOrdering);
  });

  test('a top-level ARRAY of OBJECTs with an optional property validates', async () => {
    const schema = {
      type: Type.ARRAY,
      minItems: 1,
      maxItems: 3,
      items: {
        type: Type.OBJECT,
        properties: { word: { type: Type.STRING, maxLength: 6 }, count: { type: Type.INTEGER, minimum: 0, maximum: 9 } },
        required: ['word'],
      },
    };
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { ...CONSTRAINED, responseMimeType: 'application/json', responseSchema: schema },
    });
    assertValid(geminiSchemaToJsonSchema(schema), parseJson(response), 'response.text');
  });

  test('streamed: the chunks join to one JSON text that validates', async () => {
    const schema = {
      type: Type.OBJECT,
      properties: { title: { type: Type.STRING, maxLength: 12 }, done: { type: Type.BOOLEAN } },
      required: ['title', 'done'],
    };
    const config = { ...CONSTRAINED, responseMimeType: 'application/json', responseSchema: schema };
    const chunks = [];
    for await (const chunk of await castor.client().models.generateContentStream({ model: GEMINI_MODEL, contents: PROMPT, config })) {
      chunks.push(chunk);
    }
    assert.ok(chunks.length > 0, 'the stream yielded no chunks');
    assert.equal(chunks.at(-1).candidates?.[0]?.finishReason, FinishReason.STOP);
    const text = chunks.map((c) => c.text ?? '').join('');
    let value;
    assert.doesNotThrow(() => (value = JSON.parse(text)), `the streamed text is not JSON: ${text}`);
    assertValid(geminiSchemaToJsonSchema(schema), value, 'the streamed text');
    assert.deepEqual(Object.keys(value), ['done', 'title']);
  });

  test('a pattern outside the regular subset (a backreference) throws ApiError 400 INVALID_ARGUMENT naming the field', async () => {
    const schema = { type: Type.OBJECT, properties: { code: { type: Type.STRING, pattern: '^([a-z])\\1$' } }, required: ['code'] };
    await assert.rejects(
      castor.client().models.generateContent({
        model: GEMINI_MODEL,
        contents: PROMPT,
        config: { ...CONSTRAINED, responseMimeType: 'application/json', responseSchema: schema },
      }),
      (e) => apiError(400, 'INVALID_ARGUMENT')(e) && apiError(400, 'responseSchema.properties.code.pattern')(e),
    );
  });

  test('a fractional minimum and a pattern are enforced', async () => {
    const schema = {
      type: Type.OBJECT,
      properties: { score: { type: Type.NUMBER, minimum: 0.5, maximum: 3 }, code: { type: Type.STRING, pattern: '^[a-z]{2,4}$' } },
      required: ['score', 'code'],
    };
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { ...CONSTRAINED, responseMimeType: 'application/json', responseSchema: schema },
    });
    const value = JSON.parse(response.text);
    assert.ok(value.score >= 0.5 && value.score <= 3, `score: ${value.score}`);
    assert.match(value.code, /^[a-z]{2,4}$/);
  });
});

describe('responseJsonSchema', () => {
  // Declared in non-alphabetical order: JSON Schema output keeps the declared order.
  const schema = Object.freeze({
    type: 'object',
    properties: {
      zebra: { type: 'string', maxLength: 8 },
      apple: { type: 'integer', minimum: 0, maximum: 9 },
      mango: { type: 'array', items: { type: 'boolean' }, maxItems: 2 },
      kiwi: { anyOf: [{ type: 'string', enum: ['a', 'b'] }, { type: 'null' }] },
    },
    required: ['zebra', 'apple', 'mango', 'kiwi'],
    additionalProperties: false,
  });

  test('the JSON validates against the schema, keeps the declared order, and is reproducible with a seed', async () => {
    const ai = castor.client();
    const request = {
      model: GEMINI_MODEL,
      contents: PROMPT,
      config: { ...CONSTRAINED, responseMimeType: 'application/json', responseJsonSchema: schema },
    };
    const response = await ai.models.generateContent(request);
    const value = parseJson(response);
    assertValid(schema, value, 'response.text');
    assert.deepEqual(Object.keys(value), ['zebra', 'apple', 'mango', 'kiwi']);

    const again = await ai.models.generateContent(request);
    assert.equal(again.text, response.text);
  });
});

describe("responseMimeType 'text/x.enum'", () => {
  test('response.text is exactly one of the enum values', async () => {
    const values = ['Percussion', 'String', 'Woodwind', 'Brass', 'Keyboard'];
    const ai = castor.client();
    for (const seed of [1, 2, 3]) {
      const response = await ai.models.generateContent({
        model: GEMINI_MODEL,
        contents: 'What type of instrument is an oboe?',
        config: { ...CONSTRAINED, seed, responseMimeType: 'text/x.enum', responseSchema: { type: Type.STRING, enum: values } },
      });
      assert.ok(values.includes(response.text), `seed ${seed}: ${JSON.stringify(response.text)} is not one of ${values.join(', ')}`);
      assert.equal(response.candidates[0].finishReason, FinishReason.STOP);
    }
  });
});
