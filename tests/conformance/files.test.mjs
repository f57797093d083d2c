// The Files API through @google/genai: upload (several chunks), get, list with paging, download, delete, and files in prompts.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPartFromBase64, createPartFromUri, createUserContent, MediaResolution, PartMediaResolutionLevel } from '@google/genai';
import { apiError } from './common.mjs';
import { GEMINI_MODEL, useCastor } from './server.mjs';

const castor = useCastor();
let dir;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castor-files-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('base64');

/** A valid one-line-per-page PDF with a correct cross-reference table (Helvetica, no external fonts). */
function makePdf(pages) {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ')}] /Count ${pages.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  for (const text of pages) {
    const page = objects.length + 1;
    const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${page + 1} 0 R >>`);
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  }
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const offset = pdf.length;
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** Media files are PROCESSING until the server has read them; clients poll files.get, as the Gemini docs show for video. */
async function waitActive(ai, name) {
  for (let i = 0; i < 600; i++) {
    const file = await ai.files.get({ name });
    if (file.state !== 'PROCESSING') return file;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} stayed PROCESSING`);
}

describe('files', () => {
  test('upload of a 9 MiB file (two chunks), get, download and delete', async () => {
    const ai = castor.client();
    const bytes = randomBytes(9 * 1024 * 1024 + 5);
    const path = join(dir, 'big.bin');
    await writeFile(path, bytes);

    const file = await ai.files.upload({ file: path, config: { mimeType: 'application/octet-stream', displayName: 'big.bin' } });
    assert.match(file.name, /^files\/[a-z0-9-]+$/);
    assert.equal(file.displayName, 'big.bin');
    assert.equal(file.mimeType, 'application/octet-stream');
    assert.equal(file.sizeBytes, String(bytes.length));
    assert.equal(file.sha256Hash, sha256(bytes));
    assert.equal(file.state, 'ACTIVE');
    assert.equal(file.source, 'UPLOADED');
    assert.equal(file.uri, `${castor.baseUrl}/v1beta/${file.name}`);
    assert.equal(Date.parse(file.expirationTime) - Date.parse(file.createTime), 48 * 3600 * 1000);

    const got = await ai.files.get({ name: file.name });
    assert.deepEqual(got, file);

    const downloadPath = join(dir, 'downloaded.bin');
    await ai.files.download({ file: file.name, downloadPath });
    assert.equal(sha256(await readFile(downloadPath)), file.sha256Hash);

    await ai.files.delete({ name: file.name });
    await assert.rejects(ai.files.get({ name: file.name }), apiError(404, 'NOT_FOUND'));
  });

  test('a Blob upload in one chunk', async () => {
    const ai = castor.client();
    const file = await ai.files.upload({ file: new Blob(['hello world'], { type: 'text/plain' }) });
    assert.equal(file.mimeType, 'text/plain');
    assert.equal(file.sizeBytes, '11');
    assert.equal(file.sha256Hash, sha256(Buffer.from('hello world')));
  });

  test('list pages through every file with pageSize 2', async () => {
    const ai = castor.client();
    const uploaded = [];
    for (let i = 0; i < 5; i++) {
      const f = await ai.files.upload({ file: new Blob([`file ${i}`], { type: 'text/plain' }), config: { displayName: `paged-${i}.txt` } });
      uploaded.push(f.name);
    }
    const pager = await ai.files.list({ config: { pageSize: 2 } });
    assert.equal(pager.pageLength, 2);
    const names = [];
    for await (const f of pager) {
      names.push(f.name);
      assert.ok(names.length <= 100, 'the pager does not stop');
    }
    assert.equal(new Set(names).size, names.length, 'a file was listed twice');
    for (const name of uploaded) assert.ok(names.includes(name), `${name} missing from the listing`);
  });

  test('an unknown file is a 404 for get and delete', async () => {
    const ai = castor.client();
    await assert.rejects(ai.files.get({ name: 'files/never-uploaded' }), apiError(404, 'NOT_FOUND'));
    await assert.rejects(ai.files.delete({ name: 'files/never-uploaded' }), apiError(404, 'NOT_FOUND'));
  });

  test('generateContent reads an uploaded text file and an uploaded PDF', async () => {
    const ai = castor.client();
    const story = 'Lily had a red ball. She liked to play with it in the park.';
    const text = await ai.files.upload({ file: new Blob([story], { type: 'text/plain' }) });
    const uploadedPdf = await ai.files.upload({
      file: new Blob([makePdf(['Once upon a time', 'there was a cat'])], { type: 'application/pdf' }),
      config: { displayName: 'story.pdf' },
    });
    const pdf = await waitActive(ai, uploadedPdf.name);
    assert.equal(pdf.state, 'ACTIVE');

    const contents = createUserContent([createPartFromUri(text.uri, text.mimeType), createPartFromUri(pdf.uri, pdf.mimeType), 'Once upon a time']);
    const response = await ai.models.generateContent({ model: GEMINI_MODEL, contents, config: { maxOutputTokens: 8, seed: 7 } });
    assert.equal(typeof response.text, 'string');
    assert.ok(response.text.length > 0);

    // The files entered the prompt as their text: the same count as sending that text.
    const asText = await ai.models.countTokens({
      model: GEMINI_MODEL,
      contents: createUserContent([story, '[Page 1]\nOnce upon a time\n\n[Page 2]\nthere was a cat', 'Once upon a time']),
    });
    assert.equal(response.usageMetadata.promptTokenCount, asText.totalTokens);
  });

  test('an inline image with its own mediaResolution reaches the server as the SDK writes it, and a text-only model refuses it by part', async () => {
    const ai = castor.client();
    // A 1x1 PNG; the SDK sends { inlineData, mediaResolution: { level } }.
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    await assert.rejects(
      ai.models.generateContent({
        model: GEMINI_MODEL,
        contents: createUserContent(['What is this?', createPartFromBase64(png, 'image/png', PartMediaResolutionLevel.MEDIA_RESOLUTION_HIGH)]),
        config: { mediaResolution: MediaResolution.MEDIA_RESOLUTION_LOW },
      }),
      apiError(400, "contents[0].parts[1].inlineData.mimeType': the model 'stories260k' has no vision projector"),
    );
    await assert.rejects(
      ai.models.generateContent({ model: GEMINI_MODEL, contents: 'Hi', config: { mediaResolution: 'MEDIA_RESOLUTION_HUGE' } }),
      apiError(400, 'generationConfig.mediaResolution'),
    );
  });

  test('an image in a prompt is refused naming its type', async () => {
    const ai = castor.client();
    const image = await ai.files.upload({ file: new Blob([Buffer.from('89504e470d0a1a0a', 'hex')], { type: 'image/png' }) });
    await assert.rejects(
      ai.models.generateContent({ model: GEMINI_MODEL, contents: createUserContent([createPartFromUri(image.uri, image.mimeType), 'Describe it']) }),
      apiError(400, 'image/png'),
    );
  });
});
