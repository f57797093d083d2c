// models.list and models.get through @google/genai.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GEMINI_MODEL, LOCAL_MODEL, useCastor } from './server.mjs';

const castor = useCastor();

function assertModelShape(model) {
  const label = JSON.stringify(model.name);
  assert.equal(typeof model.name, 'string');
  assert.ok(model.name.startsWith('models/'), `name ${label} does not start with models/`);
  assert.equal(typeof model.displayName, 'string', `${label} displayName`);
  assert.ok(model.displayName.length > 0, `${label} displayName is empty`);
  assert.ok(Number.isInteger(model.inputTokenLimit) && model.inputTokenLimit > 0, `${label} inputTokenLimit = ${model.inputTokenLimit}`);
  assert.ok(Number.isInteger(model.outputTokenLimit) && model.outputTokenLimit > 0, `${label} outputTokenLimit = ${model.outputTokenLimit}`);
  assert.ok(Array.isArray(model.supportedActions), `${label} supportedActions = ${JSON.stringify(model.supportedActions)}`);
  assert.ok(model.supportedActions.includes('generateContent') || model.supportedActions.includes('embedContent'), `${label} supportedActions = ${JSON.stringify(model.supportedActions)}`);
}

describe('models.list', () => {
  test('the pager with pageSize 2 iterates every model and stops', async () => {
    const ai = castor.client();
    const MAX = 200; // a guard: a pager that never ends fails instead of hanging
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    assert.equal(pager.pageLength, 2, 'the first page should hold pageSize entries');

    const models = [];
    for await (const model of pager) {
      models.push(model);
      assert.ok(models.length <= MAX, `the pager yielded more than ${MAX} models; does the last page omit nextPageToken?`);
    }

    const names = models.map((m) => m.name);
    assert.ok(models.length > 2, `only ${models.length} models: ${names.join(', ')}`);
    assert.equal(new Set(names).size, names.length, `duplicates in ${names.join(', ')}`);
    assert.ok(names.includes(LOCAL_MODEL), `${LOCAL_MODEL} missing from ${names.join(', ')}`);
    assert.ok(names.includes(`models/${GEMINI_MODEL}`), `models/${GEMINI_MODEL} missing from ${names.join(', ')}`);
    for (const model of models) assertModelShape(model);

    // Paging neither loses nor repeats entries: the same models as one unpaged list.
    const unpaged = [];
    for await (const model of await ai.models.list()) {
      unpaged.push(model.name);
      assert.ok(unpaged.length <= MAX, `the unpaged list yielded more than ${MAX} models`);
    }
    assert.deepEqual(names, unpaged);
  });
});

describe('models.get', () => {
  test('a Gemini name returns its model', async () => {
    const model = await castor.client().models.get({ model: GEMINI_MODEL });
    assert.equal(model.name, `models/${GEMINI_MODEL}`);
    assertModelShape(model);
  });

  test('a local model name with the models/ prefix returns that model', async () => {
    const model = await castor.client().models.get({ model: LOCAL_MODEL });
    assert.equal(model.name, LOCAL_MODEL);
    assertModelShape(model);
  });
});
