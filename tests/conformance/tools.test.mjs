// Function calling through @google/genai, the round trip the docs show: declare functions, read
// response.functionCalls, send the model's content and a functionResponse back, get the answer.
// In mode ANY Castor forces the model to write valid calls with a grammar, so stories260K's calls are always valid.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FinishReason, FunctionCallingConfigMode, Type } from '@google/genai';
import { GEMINI_MODEL, useCastor } from './server.mjs';
import { assertValid, geminiSchemaToJsonSchema } from './common.mjs';

const castor = useCastor();

// Short names and descriptions: stories260K spends about one token per character, and the declarations, the calls
// and their results must all fit its 2,048-token context in the round trip.
// Not frozen: the SDK normalises `parameters` in place (tTool → processJsonSchema).
/** `parameters` written with the SDK's Type enum (an OpenAPI-subset Schema). */
const setLightValues = {
  name: 'set_light_values',
  description: 'Sets a light.',
  parameters: {
    type: Type.OBJECT,
    properties: {
      brightness: { type: Type.INTEGER, minimum: 0, maximum: 100 },
      color_temp: { type: Type.STRING, enum: ['daylight', 'cool', 'warm'] },
    },
    required: ['brightness', 'color_temp'],
  },
};

/** `parametersJsonSchema`: a JSON Schema, passed through unchanged by the SDK. */
const getWeather = {
  name: 'get_weather',
  description: 'Gets the weather.',
  parametersJsonSchema: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 6 }, unit: { type: 'string', enum: ['C', 'F'] } },
    required: ['city'],
    additionalProperties: false,
  },
};

const tools = [{ functionDeclarations: [setLightValues, getWeather] }];
const argsSchemas = {
  set_light_values: geminiSchemaToJsonSchema(setLightValues.parameters),
  get_weather: structuredClone(getWeather.parametersJsonSchema),
};

/** The config of a forced call (mode ANY) to one of `allowedFunctionNames`. */
function forced(allowedFunctionNames, extra = {}) {
  return {
    tools,
    toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames } },
    // Each call takes some 80-100 tokens of stories260K's small vocabulary; calls may come in parallel.
    maxOutputTokens: 1500,
    seed: 5,
    ...extra,
  };
}

/** Asserts the response holds function calls only, to allowed names, with arguments that validate; returns them. */
function assertCalls(response, allowed) {
  assert.equal(response.candidates?.[0]?.finishReason, FinishReason.STOP, `finishReason; parts: ${JSON.stringify(response.candidates?.[0]?.content?.parts)}`);
  const calls = response.functionCalls;
  assert.ok(Array.isArray(calls) && calls.length > 0, `no functionCalls; parts: ${JSON.stringify(response.candidates?.[0]?.content?.parts)}`);
  const content = response.candidates[0].content;
  assert.equal(content.role, 'model');
  assert.deepEqual(content.parts.map((p) => Object.keys(p).filter((k) => p[k] !== undefined)), calls.map(() => ['functionCall']),
    'every part is a function call (no stray text)');
  for (const call of calls) {
    assert.ok(allowed.includes(call.name), `${call.name} is not one of ${allowed.join(', ')}`);
    assert.equal(typeof call.id, 'string', 'functionCall.id');
    assert.ok(call.id.length > 0, 'functionCall.id is empty');
    assertValid(argsSchemas[call.name], call.args, `${call.name} args`);
  }
  assert.equal(new Set(calls.map((c) => c.id)).size, calls.length, 'functionCall ids are unique');
  return calls;
}

/** A user turn answering every call, in order, as the docs build it. */
function functionResponses(calls) {
  return {
    role: 'user',
    parts: calls.map((call) => ({
      functionResponse: { name: call.name, response: { result: 'ok' }, id: call.id },
    })),
  };
}

describe('function calling', () => {
  test('mode ANY with allowedFunctionNames (a parametersJsonSchema function): valid calls, then the functionResponse round trip answers', async () => {
    const ai = castor.client();
    const contents = [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }];
    const response = await ai.models.generateContent({ model: GEMINI_MODEL, contents, config: forced(['get_weather']) });
    const calls = assertCalls(response, ['get_weather']);

    contents.push(response.candidates[0].content);
    contents.push(functionResponses(calls));
    const final = await ai.models.generateContent({ model: GEMINI_MODEL, contents, config: { tools, maxOutputTokens: 24, seed: 5 } });
    assert.equal(final.candidates?.length, 1, 'one candidate');
    assert.equal(final.candidates[0].content?.role, 'model');
    assert.ok(final.candidates[0].finishReason, 'finishReason is missing');
    // The calls and their results are part of the prompt.
    assert.ok(
      final.usageMetadata.promptTokenCount > response.usageMetadata.promptTokenCount,
      `promptTokenCount ${final.usageMetadata.promptTokenCount} <= the first request's ${response.usageMetadata.promptTokenCount}`,
    );
  });

  test('mode ANY cut short by maxOutputTokens: MAX_TOKENS, the complete calls, no tool-call markup as text', async () => {
    // About one and a half calls: the first is complete, the second is cut before its end.
    const maxOutputTokens = 150;
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: 'What is the weather in Paris?',
      config: forced(['get_weather'], { maxOutputTokens }),
    });
    const candidate = response.candidates[0];
    const parts = candidate.content?.parts ?? [];
    assert.equal(response.usageMetadata.candidatesTokenCount, maxOutputTokens, 'the limit was reached');
    assert.ok(response.functionCalls?.length > 0, `no complete call was returned: ${JSON.stringify(parts)}`);
    for (const call of response.functionCalls) assertValid(argsSchemas[call.name], call.args, `${call.name} args`);

    // Collected, so one run names every problem.
    const problems = [];
    if (candidate.finishReason !== FinishReason.MAX_TOKENS) problems.push(`finishReason is ${candidate.finishReason}, not MAX_TOKENS`);
    const firstText = parts.findIndex((p) => p.text !== undefined);
    const lastCall = parts.findLastIndex((p) => p.functionCall !== undefined);
    if (firstText >= 0 && firstText < lastCall) problems.push(`a text part (index ${firstText}) comes before a call generated before it (index ${lastCall})`);
    // In mode ANY the grammar only admits call syntax, so any text is a piece of raw call markup.
    if (parts.some((p) => p.text)) problems.push('the cut call is returned as text (raw call markup)');
    assert.deepEqual(problems, [], `parts: ${JSON.stringify(parts)}`);
  });

  test('streamed mode ANY: whole functionCall parts, no text, the same calls as unstreamed', async () => {
    const ai = castor.client();
    const request = { model: GEMINI_MODEL, contents: 'Make the room cozy', config: forced(['set_light_values'], { seed: 13 }) };
    const whole = await ai.models.generateContent(request);
    const expected = assertCalls(whole, ['set_light_values']);

    const chunks = [];
    for await (const chunk of await ai.models.generateContentStream(request)) chunks.push(chunk);
    const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
    // The closing event may carry an empty text part beside finishReason (timing decides whether the last call
    // shares that event); @google/genai's .text skips it. Nothing else but calls.
    assert.ok(parts.every((p) => p.functionCall || p.text === ''), `a streamed part is neither a call nor empty: ${JSON.stringify(parts)}`);
    const calls = parts.filter((p) => p.functionCall).map((p) => p.functionCall);
    for (const call of calls) assertValid(argsSchemas[call.name], call.args, `${call.name} args`);
    // Ids are minted per response; names and arguments follow from the seed.
    assert.deepEqual(calls.map(({ name, args }) => ({ name, args })), expected.map(({ name, args }) => ({ name, args })));
    assert.equal(chunks.at(-1).candidates?.[0]?.finishReason, FinishReason.STOP);
  });

  test('mode NONE yields text and no functionCalls', async () => {
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: 'Turn the lights down to a romantic level',
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } }, maxOutputTokens: 16, seed: 5 },
    });
    assert.equal(response.functionCalls, undefined);
    assert.ok(response.text?.length > 0, 'response.text is empty');
    assert.ok(response.candidates[0].content.parts.every((p) => p.functionCall === undefined));
  });

  test('history with functionCall and functionResponse parts is accepted as the docs write it', async () => {
    // The wire-contract capture: a model turn with a call (id fc1) and the user's functionResponse.
    const response = await castor.client().models.generateContent({
      model: GEMINI_MODEL,
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'fc1' } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { tempC: 21 }, id: 'fc1' } }] },
      ],
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } }, maxOutputTokens: 16, seed: 5 },
    });
    assert.ok(response.text?.length > 0, 'response.text is empty');
  });
});

describe('chats with tools', () => {
  test('chats.create with config.tools: a forced call (Type-enum parameters), then the functionResponse message gets an answer', async () => {
    const ai = castor.client();
    const chat = ai.chats.create({ model: GEMINI_MODEL, config: forced(['set_light_values'], { seed: 21 }) });

    const first = await chat.sendMessage({ message: 'Make the room cozy' });
    const calls = assertCalls(first, ['set_light_values']);

    // Answer the calls; this turn lets the model reply in text.
    const second = await chat.sendMessage({
      message: functionResponses(calls).parts,
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } }, maxOutputTokens: 16, seed: 21 },
    });
    assert.ok(second.text?.length > 0, 'the answer is empty');
    assert.equal(second.functionCalls, undefined);

    const history = chat.getHistory();
    assert.deepEqual(history.map((c) => c.role), ['user', 'model', 'user', 'model']);
    assert.deepEqual(history[1].parts.map((p) => p.functionCall?.name), calls.map((c) => c.name));
    assert.deepEqual(history[2].parts.map((p) => p.functionResponse?.id), calls.map((c) => c.id));
  });
});
