// The playground's request as code a user can run elsewhere. The key is always read from GEMINI_API_KEY: the console
// never writes the signed-in key into text a user may paste somewhere.

const shellQuote = (text) => `'${text.replaceAll("'", "'\\''")}'`;

export function curlSnippet(origin, { model, body }) {
  const url = `${origin}/v1beta/models/${model || 'MODEL'}:streamGenerateContent?alt=sse`;
  return [
    `curl ${shellQuote(url)} \\`,
    '  -H "x-goog-api-key: $GEMINI_API_KEY" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -d ${shellQuote(JSON.stringify(body, null, 2))}`,
  ].join('\n');
}

export function javaScriptSnippet(origin, { model, body }) {
  const config = { ...(body.generationConfig ?? {}) };
  if (body.systemInstruction) config.systemInstruction = body.systemInstruction.parts.map((p) => p.text).join('');
  const text = body.contents[0].parts[0].text;
  const lines = [
    "import { GoogleGenAI } from '@google/genai';",
    '',
    `const ai = new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY, httpOptions: { baseUrl: ${JSON.stringify(origin)} } });`,
    'const stream = await ai.models.generateContentStream({',
    `  model: ${JSON.stringify(model || 'MODEL')},`,
    `  contents: ${JSON.stringify(text)},`,
  ];
  if (Object.keys(config).length) lines.push(`  config: ${JSON.stringify(config, null, 2).replaceAll('\n', '\n  ')},`);
  lines.push('});', "for await (const chunk of stream) process.stdout.write(chunk.text ?? '');");
  return lines.join('\n');
}
