// The Live API through @google/genai's ai.live.connect, as the docs use it: callbacks collect server messages, turns go
// out with sendClientContent and sendRealtimeInput, function calls come back as toolCall and are answered with
// sendToolResponse. The SDK connects to `${baseUrl}//ws/…?key=…` (its double slash) and resolves connect() only after
// setupComplete.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GoogleGenAI, Modality } from '@google/genai';
import WebSocket from 'ws';
import { useCastor } from './server.mjs';

const castor = useCastor();

/** A session plus a queue of its messages; `next(pred)` waits for the next message matching `pred`. */
async function open(config, { setupPatch, apiKey = castor.apiKey, apiVersion } = {}) {
  const ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: castor.baseUrl, ...(apiVersion ? { apiVersion } : {}) } });
  const messages = [];
  const waiters = [];
  let closed;
  const deliver = () => {
    for (const w of [...waiters]) {
      const i = messages.findIndex(w.pred);
      if (i >= 0) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(messages.splice(0, i + 1));
      } else if (closed) {
        waiters.splice(waiters.indexOf(w), 1);
        w.reject(new Error(`closed ${closed.code} ${closed.reason} before the awaited message`));
      }
    }
  };
  const restore = setupPatch ? patchSetup(setupPatch) : () => {};
  try {
    const session = await ai.live.connect({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [Modality.TEXT], maxOutputTokens: 8, ...config },
      callbacks: {
        onmessage: (m) => { messages.push(m); deliver(); },
        onclose: (e) => { closed = { code: e.code, reason: e.reason }; deliver(); },
      },
    });
    /** Messages up to and including the first that matches `pred`. */
    const next = (pred) => new Promise((resolve, reject) => { waiters.push({ pred, resolve, reject }); deliver(); });
    const turn = () => next((m) => m.serverContent?.turnComplete);
    return { session, next, turn, get closed() { return closed; } };
  } finally {
    restore();
  }
}

/**
 * stories260K never calls a function unprompted, and the Live setup has no toolConfig, so the tool test adds
 * `toolConfig: {functionCallingConfig: {mode: 'ANY'}}` to the SDK's setup frame on its way out (Castor accepts it there as
 * generateContent does). Everything else on the wire is the SDK's own.
 */
function patchSetup(patch) {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data, ...rest) {
    const text = String(data);
    if (text.startsWith('{"setup"')) {
      const frame = JSON.parse(text);
      Object.assign(frame.setup, patch);
      return send.call(this, JSON.stringify(frame), ...rest);
    }
    return send.call(this, data, ...rest);
  };
  return () => { WebSocket.prototype.send = send; };
}

describe('ai.live.connect', () => {
  test('text turns with sendClientContent and sendRealtimeInput: modelTurn text, generationComplete, turnComplete with usage', async () => {
    const live = await open({ systemInstruction: 'You tell stories.' });
    try {
      live.session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Once upon a time' }] }], turnComplete: true });
      const first = await live.turn();
      assert.ok(first.some((m) => m.serverContent?.modelTurn?.parts?.[0]?.text !== undefined), JSON.stringify(first));
      assert.ok(first.some((m) => m.serverContent?.generationComplete), JSON.stringify(first));
      const usage = first.at(-1).usageMetadata;
      assert.ok(usage.promptTokenCount > 0 && usage.responseTokenCount > 0, JSON.stringify(usage));
      // The SDK's getter joins the text parts of a message.
      assert.equal(typeof first.find((m) => m.serverContent?.modelTurn).text, 'string');

      live.session.sendRealtimeInput({ text: 'And then?' });
      const second = await live.turn();
      const usage2 = second.at(-1).usageMetadata;
      // The second prompt holds the first turn, which the engine kept resident.
      assert.ok(usage2.promptTokenCount > usage.promptTokenCount, JSON.stringify(usage2));
      assert.ok(usage2.cachedContentTokenCount > 0, JSON.stringify(usage2));
    } finally {
      live.session.close();
    }
  });

  test('new input interrupts the running turn: serverContent.interrupted, then the new turn completes', async () => {
    const live = await open({ maxOutputTokens: 400 });
    try {
      live.session.sendClientContent({ turns: 'Tell me a long story' });
      await live.next((m) => m.serverContent?.modelTurn);
      live.session.sendRealtimeInput({ text: 'Stop. Another one.' });
      const rest = await live.turn();
      const interrupted = rest.findIndex((m) => m.serverContent?.interrupted);
      assert.ok(interrupted >= 0, JSON.stringify(rest));
      assert.equal(rest.filter((m) => m.serverContent?.turnComplete).length, 1);
    } finally {
      live.session.close();
    }
  });

  test('a tool call round trip: toolCall.functionCalls, then sendToolResponse continues the conversation', async () => {
    const live = await open({
      maxOutputTokens: 300,
      seed: 4,
      tools: [{ functionDeclarations: [{ name: 'get_time', parametersJsonSchema: {
        type: 'object', properties: { zone: { type: 'string', maxLength: 6 } }, required: ['zone'], additionalProperties: false } }] }],
    }, { setupPatch: { toolConfig: { functionCallingConfig: { mode: 'ANY' } } } });
    try {
      live.session.sendClientContent({ turns: 'What time is it?' });
      const turn = await live.turn();
      const toolCall = turn.find((m) => m.toolCall)?.toolCall;
      assert.ok(toolCall?.functionCalls?.length > 0, JSON.stringify(turn));
      for (const call of toolCall.functionCalls) {
        assert.equal(call.name, 'get_time');
        assert.equal(typeof call.args.zone, 'string');
        assert.ok(call.id);
      }
      live.session.sendToolResponse({
        functionResponses: toolCall.functionCalls.map((c) => ({ id: c.id, name: c.name, response: { time: '12:00' } })),
      });
      const next = await live.turn();
      assert.ok(next.at(-1).usageMetadata.promptTokenCount > turn.at(-1).usageMetadata.promptTokenCount);
    } finally {
      live.session.close();
    }
  });

  test('session resumption across two connections: config.sessionResumption, the sessionResumptionUpdate handle, then connect with {handle}', async () => {
    const config = { temperature: 0, systemInstruction: 'You tell stories.', sessionResumption: {} };
    const first = await open(config);
    let handle, firstUsage;
    try {
      first.session.sendClientContent({ turns: [{ role: 'user', parts: [{ text: 'Lily had a dog named Max.' }] }], turnComplete: true });
      firstUsage = (await first.turn()).at(-1).usageMetadata;
      // After turnComplete the server saves the session and hands out the handle to resume it with.
      const update = (await first.next((m) => m.sessionResumptionUpdate)).at(-1).sessionResumptionUpdate;
      assert.equal(update.resumable, true, JSON.stringify(update));
      assert.ok(update.newHandle, JSON.stringify(update));
      handle = update.newHandle;
    } finally {
      first.session.close();
    }

    const question = 'What did Lily have?';
    const resumed = await open({ ...config, sessionResumption: { handle } });
    const fresh = await open(config);
    try {
      resumed.session.sendRealtimeInput({ text: question });
      fresh.session.sendRealtimeInput({ text: question });
      const resumedUsage = (await resumed.turn()).at(-1).usageMetadata;
      const freshUsage = (await fresh.turn()).at(-1).usageMetadata;
      // The resumed prompt holds the first connection's turn (question and answer); a fresh session's does not.
      assert.ok(resumedUsage.promptTokenCount > freshUsage.promptTokenCount, JSON.stringify({ resumedUsage, freshUsage }));
      assert.ok(resumedUsage.promptTokenCount > firstUsage.promptTokenCount, JSON.stringify({ resumedUsage, firstUsage }));
      const next = (await resumed.next((m) => m.sessionResumptionUpdate)).at(-1).sessionResumptionUpdate;
      assert.ok(next.newHandle && next.newHandle !== handle, JSON.stringify(next));
    } finally {
      resumed.session.close();
      fresh.session.close();
    }
  });

  test('a bad key: connect() never settles, onclose sees 1008 and the reason', async () => {
    const ai = new GoogleGenAI({ apiKey: 'not-a-valid-key-123', httpOptions: { baseUrl: castor.baseUrl } });
    const closed = await new Promise((resolve) => {
      ai.live.connect({
        model: 'gemini-live-2.5-flash-preview',
        config: { responseModalities: [Modality.TEXT] },
        callbacks: { onclose: (e) => resolve({ code: e.code, reason: e.reason }) },
      });
    });
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /API key not valid/);
  });

  test('ai.authTokens.create, then live.connect with the token (v1alpha): its locked config wins, and a used-up token is refused', async () => {
    const ai = new GoogleGenAI({ apiKey: castor.apiKey, httpOptions: { baseUrl: castor.baseUrl, apiVersion: 'v1alpha' } });
    const token = await ai.authTokens.create({
      config: {
        uses: 1,
        liveConnectConstraints: { model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT], maxOutputTokens: 2 } },
        httpOptions: { apiVersion: 'v1alpha' },
      },
    });
    assert.match(token.name, /^auth_tokens\//);
    assert.equal(token.uses, 1);

    // The SDK sends the token as ?access_token= to BidiGenerateContentConstrained.
    const live = await open({ maxOutputTokens: 40 }, { apiKey: token.name, apiVersion: 'v1alpha' });
    try {
      live.session.sendRealtimeInput({ text: 'Once upon a time' });
      const usage = (await live.turn()).at(-1).usageMetadata;
      assert.ok(usage.responseTokenCount >= 1 && usage.responseTokenCount <= 2, JSON.stringify(usage));
    } finally {
      live.session.close();
    }

    // One use: a second connect() never settles (the SDK only reports the close), so watch onclose.
    const closed = await new Promise((resolve, reject) => {
      const again = new GoogleGenAI({ apiKey: token.name, httpOptions: { baseUrl: castor.baseUrl, apiVersion: 'v1alpha' } });
      const timer = setTimeout(() => reject(new Error('no close within 30 s')), 30_000);
      again.live.connect({
        model: 'gemini-live-2.5-flash-preview',
        config: { responseModalities: [Modality.TEXT] },
        callbacks: { onclose: (e) => { clearTimeout(timer); resolve({ code: e.code, reason: e.reason }); } },
      }).catch(() => {});
    });
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /used up/);
  });
});
