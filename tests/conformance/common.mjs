// Shared request shapes and assertion helpers for the conformance tests.
import assert from 'node:assert/strict';
import { ApiError } from '@google/genai';
import Ajv from 'ajv';

/** stories260K continues this as a children's story. */
export const PROMPT = 'Once upon a time';

/** A seeded, reproducible request configuration. */
export const SEEDED = Object.freeze({ seed: 42, temperature: 1, maxOutputTokens: 30 });

/**
 * Returns a validator for assert.rejects: the SDK's ApiError with this HTTP status,
 * and a message (the JSON error body) that contains `marker`.
 */
export function apiError(status, marker) {
  return (error) => {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${error?.name}: ${error?.message}`);
    assert.equal(error.status, status, `status; message: ${error.message}`);
    assert.ok(error.message.includes(marker), `expected the message to contain ${marker}: ${error.message}`);
    return true;
  };
}

/** Resolves with the promise's value, or fails the test after `ms` milliseconds. */
export async function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The JSON Schema equivalent of a Gemini API `Schema` (the OpenAPI subset @google/genai's `Type` enum builds):
 * type names lower-cased, `nullable` as a "null" type, `propertyOrdering` dropped. Objects get
 * `additionalProperties: false`, since the API only returns declared properties.
 */
export function geminiSchemaToJsonSchema(schema) {
  const { type, nullable, propertyOrdering, properties, items, anyOf, enum: values, ...rest } = schema;
  const out = { ...rest };
  if (type !== undefined) {
    const t = String(type).toLowerCase();
    out.type = nullable ? [t, 'null'] : t;
  }
  if (values !== undefined) out.enum = nullable ? [...values, null] : values;
  if (properties !== undefined) {
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, geminiSchemaToJsonSchema(v)]));
    out.additionalProperties = false;
  }
  if (items !== undefined) out.items = geminiSchemaToJsonSchema(items);
  if (anyOf !== undefined) out.anyOf = anyOf.map(geminiSchemaToJsonSchema);
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: true });

/** Asserts that `value` validates against the JSON Schema `schema` (ajv, JSON Schema draft-07). */
export function assertValid(schema, value, what = 'value') {
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${what} ${JSON.stringify(value)} does not validate: ${ajv.errorsText(validate.errors)}`);
}
