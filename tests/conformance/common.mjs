// Shared request shapes and assertion helpers for the conformance tests.
import assert from 'node:assert/strict';
import { ApiError } from '@google/genai';

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
