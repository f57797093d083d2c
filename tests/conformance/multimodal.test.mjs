// Images and audio through @google/genai (inline PNG, an uploaded PNG via files.upload + createPartFromUri, inline WAV),
// the openai SDK (image_url with a data URL) and the Vercel AI SDK (an image part). The server gets two more models,
// copies of stories260K paired with random-weight projectors that media.mjs writes (no download, no Castor code):
// "seer" (an mlp vision projector: 16 tokens an image) and "listener" (a qwen2a audio projector).
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createPartFromUri } from '@google/genai';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { generateText } from 'ai';
import OpenAI from 'openai';
import { useCastor } from './server.mjs';
import { png, wav, writeProjector } from './media.mjs';

const castor = useCastor({
  config: async ({ dataDir, modelFile }) => {
    await copyFile(modelFile, join(dataDir, 'seer.gguf'));
    await copyFile(modelFile, join(dataDir, 'listener.gguf'));
    await writeProjector(join(dataDir, 'mmproj-mlp.gguf'), 'mlp');
    await writeProjector(join(dataDir, 'mmproj-qwen2a.gguf'), 'qwen2a');
    return {
      Castor: {
        ModelSettings: {
          seer: { Path: join(dataDir, 'seer.gguf'), Projector: join(dataDir, 'mmproj-mlp.gguf') },
          listener: { Path: join(dataDir, 'listener.gguf'), Projector: join(dataDir, 'mmproj-qwen2a.gguf'), ContextSize: 2048 },
        },
      },
    };
  },
});

const CONFIG = { seed: 7, temperature: 0.9, maxOutputTokens: 8 };
const detail = (usage, modality) => usage?.promptTokensDetails?.find((d) => d.modality === modality)?.tokenCount ?? 0;

describe('@google/genai with media', () => {
  // countTokens' promptTokensDetails is checked over HTTP (tests/Castor.IntegrationTests/Media): this SDK's
  // CountTokensResponse keeps totalTokens only.
  test('an inline PNG is read and counted as IMAGE tokens', async () => {
    const ai = castor.client();
    const contents = [{ role: 'user', parts: [{ text: 'What is in this picture?' }, { inlineData: { mimeType: 'image/png', data: png(1).toString('base64') } }] }];
    const count = await ai.models.countTokens({ model: 'seer', contents });
    const response = await ai.models.generateContent({ model: 'seer', contents, config: CONFIG });
    assert.equal(response.usageMetadata.promptTokenCount, count.totalTokens);
    assert.equal(detail(response.usageMetadata, 'IMAGE'), 16);
    assert.ok(response.text.length > 0);
  });

  test('an uploaded PNG (files.upload, then createPartFromUri) is read like an inline one', async () => {
    const ai = castor.client();
    const file = await ai.files.upload({ file: new Blob([png(2)], { type: 'image/png' }), config: { mimeType: 'image/png' } });
    const contents = [{ role: 'user', parts: [createPartFromUri(file.uri, file.mimeType), { text: 'Describe it.' }] }];
    const response = await ai.models.generateContent({ model: 'seer', contents, config: CONFIG });
    assert.equal(detail(response.usageMetadata, 'IMAGE'), 16);
    assert.ok(response.text.length > 0);
  });

  test('an inline WAV is heard and counted as AUDIO tokens', async () => {
    const ai = castor.client();
    const contents = [{ role: 'user', parts: [{ text: 'Listen:' }, { inlineData: { mimeType: 'audio/wav', data: wav(1).toString('base64') } }] }];
    const response = await ai.models.generateContent({ model: 'listener', contents, config: { ...CONFIG, maxOutputTokens: 2 } });
    assert.ok(detail(response.usageMetadata, 'AUDIO') > 0);
    assert.equal(detail(response.usageMetadata, 'IMAGE'), 0);
  });
});

test('openai SDK: an image_url data URL', async () => {
  const openai = new OpenAI({ apiKey: castor.apiKey, baseURL: `${castor.baseUrl}/v1beta/openai/`, maxRetries: 0 });
  const completion = await openai.chat.completions.create({
    model: 'seer',
    max_tokens: 8,
    seed: 7,
    messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png(3).toString('base64')}` } },
    ] }],
  });
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.ok(completion.usage.prompt_tokens > 16);
});

test('Vercel AI SDK: an image part', async () => {
  const google = createGoogleGenerativeAI({ baseURL: `${castor.baseUrl}/v1beta`, apiKey: castor.apiKey });
  const result = await generateText({
    model: google('seer'),
    maxOutputTokens: 8,
    seed: 7,
    messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image', image: png(4), mediaType: 'image/png' },
    ] }],
  });
  assert.ok(result.text.length > 0);
  assert.ok(result.usage.inputTokens > 16);
});
