// Starts a real Castor server for a test file and stops it afterwards.
//
//   import { useCastor } from './server.mjs';
//   const castor = useCastor();          // registers before()/after() hooks
//   test('…', async () => { const ai = castor.client(); … });
//
// Configuration (environment):
//   CASTOR_DLL          path to castor.dll (default: src/Castor.Cli/bin/{Release,Debug}/net10.0/castor.dll)
//   CASTOR_TEST_MODELS  folder holding stories260K.gguf (default: <repo>/../shared/models)
//   DOTNET              the dotnet host to run it with (default: dotnet on PATH)

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GoogleGenAI } from '@google/genai';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

/** The local model every test runs against, and the name Castor gives it. */
export const MODEL_FILE = 'stories260K.gguf';
export const LOCAL_MODEL = 'models/stories260k';
/** A Gemini name; Castor aliases it to the local model. */
export const GEMINI_MODEL = 'gemini-2.5-flash';

const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
// "  Listening on  http://127.0.0.1:43121/v1beta   (point an SDK's base URL at http://127.0.0.1:43121)"
const BANNER = /point an SDK's base URL at (https?:\/\/[^\s)]+)/;

function findCastorDll() {
  if (process.env.CASTOR_DLL) {
    const dll = resolve(process.env.CASTOR_DLL);
    if (!existsSync(dll)) throw new Error(`CASTOR_DLL is set to ${dll}, but there is no such file.`);
    return dll;
  }
  const candidates = ['Release', 'Debug'].map((c) => join(repoRoot, 'src', 'Castor.Cli', 'bin', c, 'net10.0', 'castor.dll'));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `castor.dll was not found (looked at ${candidates.join(' and ')}). ` +
        `Build the server first: cd ${repoRoot} && dotnet build Castor.slnx -c Release ` +
        `(or point CASTOR_DLL at a built castor.dll).`,
    );
  }
  return found;
}

function findModel() {
  const folder = resolve(process.env.CASTOR_TEST_MODELS ?? join(repoRoot, '..', 'shared', 'models'));
  const file = join(folder, MODEL_FILE);
  if (!existsSync(file)) {
    throw new Error(`The test model ${file} does not exist. Set CASTOR_TEST_MODELS to the folder that holds ${MODEL_FILE}.`);
  }
  return file;
}

/**
 * Starts `castor serve` on a free loopback port with a fresh data folder and API key.
 * Resolves once the banner names the base URL.
 *
 * Options:
 *   threads    CPU threads for inference (default 2)
 *   config     an object written to <data dir>/config.json and passed as `--config` (it should have a `Castor` section),
 *              or a function ({ dataDir, modelFile }) => object (may be async) called once the data folder exists;
 *              every model id under `Castor.ModelSettings` is checked to be served, like the test model.
 *              Castor loads a file once: a `ModelSettings` entry whose Path is the test model itself replaces
 *              stories260k, so point extra entries at a copy (see thinking.test.mjs).
 *   extraArgs  more `serve` arguments, appended after the usual ones
 */
export async function startCastor({ threads = 2, config, extraArgs = [] } = {}) {
  const dll = findCastorDll();
  const model = findModel();
  const dataDir = await mkdtemp(join(tmpdir(), 'castor-conformance-'));
  const apiKey = `conformance-${randomUUID()}`;
  const args = [dll, 'serve', '--urls', 'http://127.0.0.1:0', '--models', model, '--data', dataDir, '--threads', String(threads)];
  try {
    if (typeof config === 'function') config = await config({ dataDir, modelFile: model });
    if (config !== undefined) {
      const file = join(dataDir, 'config.json');
      await writeFile(file, JSON.stringify(config, null, 2));
      args.push('--config', file);
    }
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  args.push(...extraArgs);
  const servedModels = [LOCAL_MODEL, ...Object.keys(config?.Castor?.ModelSettings ?? {}).map((id) => `models/${id.toLowerCase()}`)];

  const child = spawn(process.env.DOTNET ?? 'dotnet', args, {
    // The data folder as working directory, so no stray ./castor.json or ./models is picked up.
    cwd: dataDir,
    env: { ...process.env, CASTOR_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (s) => (output += s));
  child.stderr.on('data', (s) => (output += s));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  child.once('error', (e) => (output += `\n[spawn error] ${e.message}`));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const server = {
    apiKey,
    dataDir,
    baseUrl: undefined,
    get output() {
      return output;
    },
    /** A client configured exactly as the SDK's docs show, pointed at this server. */
    client(key = apiKey) {
      return new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: server.baseUrl } });
    },
    /** A new API key for `project` (created with `castor keys create` on the same data folder), for isolation tests. */
    async createKey(project) {
      const keys = spawn(process.env.DOTNET ?? 'dotnet', [dll, 'keys', 'create', '--project', project, '--data', dataDir], {
        cwd: dataDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      keys.stdout.setEncoding('utf8');
      keys.stdout.on('data', (s) => (out += s));
      const code = await new Promise((res) => keys.once('exit', res));
      if (code !== 0) throw new Error(`castor keys create exited with ${code}`);
      return out.trim();
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    server.baseUrl = await new Promise((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`Castor did not print its banner within ${STARTUP_TIMEOUT_MS / 1000} s.`)),
        STARTUP_TIMEOUT_MS,
      );
      const look = () => {
        const m = BANNER.exec(output);
        if (m) {
          clearTimeout(timer);
          child.stdout.off('data', look);
          res(m[1].replace(/\/+$/, ''));
        }
      };
      child.stdout.on('data', look);
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        rej(new Error(`Castor exited before it was ready (code ${code}, signal ${signal}).`));
      });
      look();
    });
    // The server starts even when a model fails to load; make sure these are being served.
    for (const name of servedModels) {
      const probe = await fetch(`${server.baseUrl}/v1beta/${name}`, { headers: { 'x-goog-api-key': apiKey } });
      if (!probe.ok) {
        throw new Error(`Castor started, but GET /v1beta/${name} answered ${probe.status}: ${await probe.text()}`);
      }
    }
  } catch (e) {
    await server.stop().catch(() => {});
    e.message += `\ncommand: dotnet ${args.join(' ')}\n--- castor output ---\n${output}\n---------------------`;
    throw e;
  }
  return server;
}

/**
 * Registers before()/after() hooks that start one Castor for the current test file and stop it.
 * `options` are startCastor's. The returned object forwards to the running server.
 */
export function useCastor(options) {
  let server;
  before(async () => {
    server = await startCastor(options);
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get apiKey() {
      return server.apiKey;
    },
    get baseUrl() {
      return server.baseUrl;
    },
    get output() {
      return server.output;
    },
    client(key) {
      return server.client(key);
    },
    createKey(project) {
      return server.createKey(project);
    },
  };
}

/** The model id of the test model's thinking twin (see thinkerConfig). */
export const THINKER = 'thinker';

/**
 * A `config` for useCastor that adds THINKER: a copy of the test model configured with thought markers
 * (<think> … </think>, starting inside a thought). Castor loads each file once, hence the copy; stories260k stays served.
 */
export async function thinkerConfig({ dataDir, modelFile }) {
  const copy = join(dataDir, 'thinker.gguf');
  await copyFile(modelFile, copy);
  return {
    Castor: {
      DefaultModel: 'stories260k',
      ModelSettings: { [THINKER]: { Path: copy, Thinking: { Start: '<think>', End: '</think>', StartsInThought: true } } },
    },
  };
}
