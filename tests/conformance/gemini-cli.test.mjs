// Gemini CLI (@google/gemini-cli) run headless against Castor, configured as the README's "Gemini CLI" section says.
//
// One `gemini -p` makes two calls: the routing classifier (`generateContent` with a `responseJsonSchema` asking for
// `complexity_score`) and the main `streamGenerateContent?alt=sse` carrying the CLI's system prompt and 8 tool
// declarations (~39 KB, ~26 K tokens with the test model's 512-token vocabulary: hence its own server with a
// 32 K window). A recording proxy between the two shows what was asked and answered.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startCastor } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const GEMINI = join(here, 'node_modules', '@google', 'gemini-cli', 'bundle', 'gemini.js');
// The prefill takes about a minute on a quiet 2-core machine and far longer on a loaded one; the CLI keeps waiting
// (Castor keeps the stream alive), so this only stops a hang.
const CLI_TIMEOUT_MS = 20 * 60_000;

// The README's settings.json, verbatim, with its optional cap on answers: the story model rarely ends on its own, and
// without maxOutputTokens an answer may run to the end of the 32 K window (the API's default is the model's
// outputTokenLimit), which is minutes of decoding at that depth and long enough for the CLI's loop detection to cut in.
const SETTINGS = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  modelConfigs: { customOverrides: [{ match: { model: 'chat-base' }, modelConfig: { generateContentConfig: { maxOutputTokens: 256 } } }] },
};

let castor;
let proxy;
let home;
const exchanges = [];

/** Forwards to Castor unchanged (headers flushed at once, body chunks as they come) and records each exchange. */
function startRecordingProxy(target) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const exchange = { method: req.method, url: req.url, request: Buffer.concat(chunks).toString('utf8'), status: undefined, response: '' };
      exchanges.push(exchange);
      const headers = { ...req.headers };
      delete headers.host;
      const upstream = http.request(new URL(req.url, target), { method: req.method, headers }, (up) => {
        exchange.status = up.statusCode;
        res.writeHead(up.statusCode, up.headers);
        res.flushHeaders();
        up.setEncoding('utf8');
        up.on('data', (s) => {
          exchange.response += s;
          res.write(s);
        });
        up.on('end', () => res.end());
      });
      upstream.on('error', (e) => {
        exchange.error = e.message;
        res.destroy(e);
      });
      res.on('close', () => upstream.destroy());
      upstream.end(exchange.request);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function runGemini(args, env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GEMINI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

before(async () => {
  castor = await startCastor({ extraArgs: ['--context-size', '32768', '--parallel', '1'] });
  proxy = await startRecordingProxy(castor.baseUrl);
  home = await mkdtemp(join(tmpdir(), 'castor-gemini-cli-'));
  await mkdir(join(home, '.gemini'));
  await mkdir(join(home, 'work'));
  await writeFile(join(home, '.gemini', 'settings.json'), JSON.stringify(SETTINGS, null, 2));
});

after(async () => {
  proxy?.close();
  await castor?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

test('gemini -p answers from Castor: routing classifier parsed, one main stream, exit 0', { timeout: CLI_TIMEOUT_MS + 60_000 }, async () => {
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    GEMINI_API_KEY: castor.apiKey,
    GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${proxy.address().port}`,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    NO_COLOR: '1',
  };
  const started = Date.now();
  const run = await runGemini(['-p', 'Tell me a short story'], env, join(home, 'work'));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const calls = exchanges.map((e) => `${e.method} ${e.url} → ${e.status ?? e.error}`).join('\n');
  // The server's own errors (a 500's exception and stack), so a failure here can be diagnosed from CI's log alone.
  const serverErrors = castor.output.split('\n').filter((l) => /fail|rror|xception|^\s+at /.test(l)).slice(-60).join('\n');
  const detail = `after ${seconds} s, exit ${run.code} ${run.signal ?? ''}\ncalls:\n${calls}\n--- stderr ---\n${run.stderr.slice(-4000)}` +
    `\n--- castor's errors ---\n${serverErrors}`;

  assert.equal(run.code, 0, detail);
  assert.ok(run.stdout.trim().length > 0, `no answer on stdout; ${detail}`);

  // The routing classifier: its answer must parse as the schema's object with an integer score.
  const routing = exchanges.filter((e) => e.url.includes(':generateContent') && e.request.includes('complexity_score'));
  assert.equal(routing.length, 1, detail);
  assert.equal(routing[0].status, 200, detail);
  const asked = JSON.parse(routing[0].request).generationConfig;
  assert.equal(asked.responseMimeType, 'application/json');
  const answer = JSON.parse(JSON.parse(routing[0].response).candidates[0].content.parts[0].text);
  assert.deepEqual(Object.keys(answer).sort(), ['complexity_reasoning', 'complexity_score']);
  assert.equal(typeof answer.complexity_reasoning, 'string');
  assert.ok(Number.isInteger(answer.complexity_score), `complexity_score: ${answer.complexity_score}`);
  // The schema says INTEGER with no minimum/maximum (1–100 is only in its description and the CLI's own check), so
  // a score outside that range is schema-valid; the CLI then logs the failure and routes to its default model.
  const inRange = answer.complexity_score >= 1 && answer.complexity_score <= 100;
  assert.equal(run.stderr.includes('NumericalClassifierStrategy failed'), !inRange, `score ${answer.complexity_score}; ${detail}`);

  // The main call went out once (no retry after a client-side timeout) and streamed its answer.
  const streams = exchanges.filter((e) => e.url.includes(':streamGenerateContent'));
  assert.equal(streams.length, 1, detail);
  assert.equal(streams[0].status, 200, detail);
  assert.match(streams[0].response, /^\s*data: /);
  assert.doesNotMatch(streams[0].response, /"error"/);
  assert.equal(JSON.parse(streams[0].request).generationConfig.maxOutputTokens, 256, 'the settings\' cap reached the request');
  console.log(`# gemini -p answered in ${seconds} s (routing score ${answer.complexity_score}; ${exchanges.length} calls)`);
});
