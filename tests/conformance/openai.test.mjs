// The OpenAI-compatible surface through the official `openai` npm SDK, configured the way the Gemini docs show:
// only apiKey and baseURL change. Chat (plain, streamed with usage), tools round trip, structured output with
// zodResponseFormat + chat.completions.parse, thinking through reasoning_effort and extra_body.google, embeddings
// (the SDK asks for base64 and decodes it), models, and errors raised as the SDK's own exception types.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { GEMINI_MODEL, THINKER, thinkerConfig, useCastor } from './server.mjs';
import { PROMPT, within } from './common.mjs';

// The thinker (a copy of the test model with thought markers) serves the thinking test.
const castor = useCastor({ config: thinkerConfig });

/** The client exactly as the Gemini docs configure it, pointed at this server. No retries: errors must surface as they are. */
const openai = (apiKey = castor.apiKey) => new OpenAI({ apiKey, baseURL: `${castor.baseUrl}/v1beta/openai/`, maxRetries: 0 });

describe('chat.completions', () => {
  test('create: a choice with text, finish_reason and usage', async () => {
    const completion = await openai().chat.completions.create({
      model: GEMINI_MODEL,
      messages: [
        { role: 'system', content: 'You are a storyteller.' },
        { role: 'user', content: PROMPT },
      ],
      max_tokens: 20,
      temperature: 0.7,
      seed: 9,
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices.length, 1);
    const [choice] = completion.choices;
    assert.equal(choice.message.role, 'assistant');
    assert.ok(choice.message.content.length > 0);
    assert.equal(choice.finish_reason, 'length');
    assert.equal(completion.usage.completion_tokens, 20);
    assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + 20);
  });

  test('create with stream and stream_options.include_usage: deltas, a finish_reason, then a usage chunk', async () => {
    const stream = await openai().chat.completions.create({
      model: GEMINI_MODEL,
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish = null;
    let usage = null;
    let contentChunks = 0;
    for await (const chunk of stream) {
      assert.equal(usage, null, 'a chunk came after the usage chunk');
      if (chunk.usage) {
        usage = chunk.usage;
        assert.deepEqual(chunk.choices, []);
        continue;
      }
      assert.equal(finish, null, 'a chunk came after the finish_reason');
      if (chunk.choices[0].delta.content) contentChunks++;
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    // A slow reader gets what piled up in fewer, larger chunks, so the count is not fixed; order is.
    assert.ok(contentChunks >= 1, 'no content chunk');
    assert.ok(text.length > 0);
    assert.equal(finish, 'length');
    assert.equal(usage?.completion_tokens, 12);
  });

  test('a stream the client aborts stops promptly, and the server stays usable', async () => {
    const controller = new AbortController();
    const stream = await openai().chat.completions.create(
      { model: GEMINI_MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 1500, stream: true },
      { signal: controller.signal },
    );
    const chunks = [];
    let abortedAt;
    let thrown;
    await within(30_000, 'the aborted stream', (async () => {
      try {
        for await (const chunk of stream) {
          chunks.push(chunk);
          if (chunks.length === 2) {
            abortedAt = Date.now();
            controller.abort();
          }
        }
      } catch (e) {
        thrown = e;
      }
    })());
    const stoppedAfter = Date.now() - abortedAt;
    assert.ok(abortedAt, `the stream ended before the abort: ${thrown}`);
    // Chunks parsed from the same read may still come; the 1,500-token stream must not be drained.
    assert.ok(chunks.length <= 8, `iteration went on after the abort (${chunks.length} chunks)`);
    assert.ok(chunks.every((c) => !c.choices[0]?.finish_reason), 'the stream ran to its end despite the abort');
    if (thrown) assert.match(thrown.name, /Abort/, `unexpected error: ${thrown}`);
    assert.ok(stoppedAfter < 2_000, `the iteration ended ${stoppedAfter} ms after the abort`);

    const next = await within(10_000, 'a request after the abort',
      openai().chat.completions.create({ model: GEMINI_MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 4 }));
    assert.equal(next.usage.completion_tokens, 4);
  });

  test('tools: a forced call, then the tool result back, then an answer', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 10 } }, required: ['city'], additionalProperties: false },
        },
      },
    ];
    const messages = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await openai().chat.completions.create({
      model: GEMINI_MODEL, messages, tools, tool_choice: 'required', parallel_tool_calls: false, max_tokens: 200,
    });
    const [choice] = first.choices;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const [call] = choice.message.tool_calls;
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.equal(typeof args.city, 'string');
    assert.ok(args.city.length <= 10);

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ tempC: 21 }) });
    const second = await openai().chat.completions.create({ model: GEMINI_MODEL, messages, tools, tool_choice: 'none', max_tokens: 10 });
    assert.equal(second.choices[0].message.tool_calls, undefined);
    assert.ok(second.choices[0].message.content.length > 0);
  });

  test('tools streamed: the call arrives as a tool_calls delta with an index and an id', async () => {
    const stream = await openai().chat.completions.create({
      model: GEMINI_MODEL,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 8 } }, required: ['city'] } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      max_tokens: 200,
      stream: true,
    });
    const calls = [];
    let finish = null;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) calls.push(delta);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].index, 0);
    assert.ok(calls[0].id);
    assert.equal(calls[0].function.name, 'get_weather');
    assert.equal(typeof JSON.parse(calls[0].function.arguments).city, 'string');
  });

  test('parse with zodResponseFormat: the parsed object follows the zod schema', async () => {
    const Event = z.object({
      name: z.string().max(24),
      day: z.enum(['monday', 'friday', 'sunday']),
      participants: z.array(z.string().max(12)).max(3),
    });
    const completion = await openai().chat.completions.parse({
      model: GEMINI_MODEL,
      messages: [
        { role: 'system', content: 'Extract the event information.' },
        { role: 'user', content: 'John and Susan are going to an AI conference on Friday.' },
      ],
      response_format: zodResponseFormat(Event, 'event'),
      max_tokens: 400,
    });
    const [choice] = completion.choices;
    assert.equal(choice.finish_reason, 'stop');
    const parsed = choice.message.parsed;
    assert.ok(parsed, `nothing parsed from ${choice.message.content}`);
    assert.deepEqual(Event.parse(parsed), parsed);
  });

  test('reasoning_effort none and extra_body.google.thinking_config on a thinking model', async () => {
    const off = await openai().chat.completions.create({ model: THINKER, messages: [{ role: 'user', content: PROMPT }], reasoning_effort: 'none', max_tokens: 20 });
    assert.equal(off.usage.completion_tokens_details.reasoning_tokens, 0);
    assert.doesNotMatch(off.choices[0].message.content, /<\/?think>|<thought>/);

    const budget = 12;
    const on = await openai().chat.completions.create({
      model: THINKER,
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 60,
      // The JS SDK sends extra_body literally, as the Gemini docs' samples show.
      extra_body: { google: { thinking_config: { thinking_budget: budget, include_thoughts: true } } },
    });
    const reasoning = on.usage.completion_tokens_details.reasoning_tokens;
    assert.ok(reasoning >= budget && reasoning <= budget + 10, `reasoning_tokens ${reasoning}`);
    assert.ok(on.usage.completion_tokens >= reasoning, 'completion_tokens counts the reasoning too');
    // Thought summaries come first, between <thought> tags, then the answer.
    assert.match(on.choices[0].message.content, /^<thought>[\s\S]+<\/thought>/);
  });

  test('logprobs with top_logprobs: one entry per token, alternatives best first', async () => {
    const completion = await openai().chat.completions.create({
      model: GEMINI_MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3,
    });
    const { content } = completion.choices[0].logprobs;
    assert.equal(content.length, 6);
    assert.equal(content.map((t) => t.token).join(''), completion.choices[0].message.content);
    for (const t of content) {
      assert.equal(t.top_logprobs.length, 3);
      assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob && t.logprob <= 0);
      assert.equal(t.top_logprobs[0].token, t.token, 'temperature 0 takes the most likely token');
      assert.equal(Buffer.from(t.bytes).toString('utf8'), t.token);
    }
  });

  test('errors are the SDK\'s own types: 401 AuthenticationError, 400 BadRequestError with param, 404 NotFoundError', async () => {
    await assert.rejects(
      openai('not-a-key').chat.completions.create({ model: GEMINI_MODEL, messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key',
    );
    await assert.rejects(
      openai().chat.completions.create({ model: GEMINI_MODEL, messages: [{ role: 'user', content: 'hi' }], temperature: 9 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature' && e.type === 'invalid_request_error',
    );
    await assert.rejects(
      openai().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof OpenAI.NotFoundError && e.status === 404,
    );
  });
});

describe('images and audio', () => {
  test('image_url with a web URL is a BadRequestError naming the part: URL fetching is not enabled', async () => {
    await assert.rejects(
      openai().chat.completions.create({
        model: GEMINI_MODEL,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
      }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages[0].content[1].image_url.url' && /URLs is not enabled/.test(e.message),
    );
  });
});

describe('embeddings', () => {
  test('create: the SDK asks for base64, decodes it, and the vectors make sense', async () => {
    const response = await openai().embeddings.create({
      model: 'gemini-embedding-001',
      input: ['a small kitten', 'a cat sleeping on the sofa', 'a red sports car'],
    });
    assert.equal(response.data.length, 3);
    const [kitten, cat, car] = response.data.map((d) => d.embedding);
    assert.ok(Array.isArray(kitten) && kitten.length > 0 && typeof kitten[0] === 'number');
    const cos = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0) / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
    assert.ok(cos(kitten, cat) > cos(kitten, car) + 0.1, `kitten~cat ${cos(kitten, cat)} vs kitten~car ${cos(kitten, car)}`);
    assert.ok(response.usage.prompt_tokens > 0);
  });

  test('create with dimensions and encoding_format float', async () => {
    const response = await openai().embeddings.create({ model: 'gemini-embedding-001', input: 'hello world', dimensions: 16, encoding_format: 'float' });
    assert.equal(response.data[0].embedding.length, 16);
  });
});

describe('models', () => {
  test('list and retrieve (the id is percent-encoded on the wire)', async () => {
    const ids = [];
    for await (const model of openai().models.list()) ids.push(model.id);
    assert.ok(ids.includes(`models/${GEMINI_MODEL}`), ids.join(', '));
    assert.ok(ids.includes('models/gemini-embedding-001'), ids.join(', '));

    const model = await openai().models.retrieve('models/gemini-2.5-pro');
    assert.equal(model.id, 'models/gemini-2.5-pro');
    assert.equal(model.object, 'model');
  });
});
