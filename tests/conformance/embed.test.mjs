// models.embedContent through @google/genai, exactly as the docs show it. The SDK always calls
// :batchEmbedContents (one string or several) and reads embeddings[].values.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOCAL_MODEL, useCastor } from './server.mjs';
import { apiError } from './common.mjs';

const castor = useCastor();

/** A Gemini embedding name; Castor aliases it to its built-in embedding model (all-MiniLM-L6-v2, 384 dimensions). */
const EMBEDDING_MODEL = 'gemini-embedding-001';
const DIMENSIONS = 384;

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b));

function assertVector(values, length) {
  assert.ok(Array.isArray(values), `values is ${JSON.stringify(values)}`);
  assert.equal(values.length, length);
  assert.ok(values.every((x) => typeof x === 'number' && Number.isFinite(x)), 'every value is a finite number');
}

describe('models.embedContent', () => {
  test('one string gives one normalized embedding', async () => {
    const response = await castor.client().models.embedContent({ model: EMBEDDING_MODEL, contents: 'What is the meaning of life?' });
    assert.equal(response.embeddings.length, 1);
    const [embedding] = response.embeddings;
    assertVector(embedding.values, DIMENSIONS);
    assert.ok(Math.abs(norm(embedding.values) - 1) < 1e-4, `norm ${norm(embedding.values)}`);
  });

  test('several strings give one embedding each, in order, and similar meanings are closer', async () => {
    const texts = ['What is the meaning of life?', 'What is the purpose of existence?', 'How do I bake a cake?'];
    const ai = castor.client();
    const response = await ai.models.embedContent({
      model: EMBEDDING_MODEL,
      contents: texts,
      config: { taskType: 'SEMANTIC_SIMILARITY' },
    });
    assert.equal(response.embeddings.length, 3);
    for (const e of response.embeddings) assertVector(e.values, DIMENSIONS);
    const [life, purpose, cake] = response.embeddings.map((e) => e.values);
    assert.ok(cosine(life, purpose) > cosine(life, cake), `life~purpose ${cosine(life, purpose)}, life~cake ${cosine(life, cake)}`);

    // The same text alone gives the same vector: embeddings are deterministic.
    const alone = await ai.models.embedContent({ model: EMBEDDING_MODEL, contents: texts[2], config: { taskType: 'SEMANTIC_SIMILARITY' } });
    assert.ok(cosine(alone.embeddings[0].values, cake) > 0.99999);
  });

  test('outputDimensionality cuts each vector to the normalized vector\'s prefix', async () => {
    const ai = castor.client();
    const full = await ai.models.embedContent({ model: `models/${EMBEDDING_MODEL}`, contents: 'hello world' });
    const cut = await ai.models.embedContent({
      model: EMBEDDING_MODEL,
      contents: ['hello world', 'second text'],
      config: { outputDimensionality: 16, taskType: 'RETRIEVAL_DOCUMENT', title: 'Doc title' },
    });
    assert.equal(cut.embeddings.length, 2);
    for (const e of cut.embeddings) assertVector(e.values, 16);
    assert.deepEqual(cut.embeddings[0].values, full.embeddings[0].values.slice(0, 16));
  });

  test('more dimensions than the model has throws ApiError 400 INVALID_ARGUMENT', async () => {
    await assert.rejects(
      castor.client().models.embedContent({ model: EMBEDDING_MODEL, contents: 'x', config: { outputDimensionality: DIMENSIONS + 1 } }),
      apiError(400, 'outputDimensionality'),
    );
  });

  test('a generative model refuses embedContent with ApiError 400 INVALID_ARGUMENT', async () => {
    await assert.rejects(castor.client().models.embedContent({ model: LOCAL_MODEL, contents: 'x' }), apiError(400, 'INVALID_ARGUMENT'));
  });

  test('models.get of the embedding name says it supports embedContent', async () => {
    const model = await castor.client().models.get({ model: EMBEDDING_MODEL });
    assert.equal(model.name, `models/${EMBEDDING_MODEL}`);
    assert.ok(model.supportedActions.includes('embedContent'), JSON.stringify(model.supportedActions));
    assert.ok(!model.supportedActions.includes('generateContent'), JSON.stringify(model.supportedActions));
  });
});
