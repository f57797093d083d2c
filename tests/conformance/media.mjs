// Test media for the conformance suite, written without Castor: a random-weight multimodal projector (mmproj GGUF) that
// llama.cpp's mtmd pairs with stories260K (n_embd 64), PNG images of noise and WAV tones.
//
// The projectors follow llama.cpp's clip loader (GGUF v3, F32 tensors, UINT32 integers, shapes innermost first):
//   mlp     a tiny ViT (32-pixel images, 8-pixel patches: 16 tokens an image) with LLaVA's two-layer projector
//   qwen2a  a tiny Whisper encoder with Qwen2-Audio's linear projector (16 kHz audio, 750 tokens per 30 s window)
import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';

const TEXT_EMBEDDING = 64;

/** Writes a projector of `type` ('mlp' or 'qwen2a') to `path`. */
export async function writeProjector(path, type) {
  const g = new Gguf();
  g.string('general.architecture', 'clip');
  g.string('general.name', `castor-conformance-${type}`);
  g.string('clip.projector_type', type);
  g.bool('clip.use_gelu', true);
  if (type === 'mlp') {
    const [size, patch, width, ff] = [32, 8, 32, 48];
    g.bool('clip.has_vision_encoder', true);
    g.bool('clip.has_audio_encoder', false);
    for (const [k, v] of [['image_size', size], ['patch_size', patch], ['embedding_length', width], ['feed_forward_length', ff],
      ['block_count', 2], ['projection_dim', width], ['attention.head_count', 4]]) g.u32(`clip.vision.${k}`, v);
    g.f32('clip.vision.attention.layer_norm_epsilon', 1e-6);
    g.f32s('clip.vision.image_mean', [0.5, 0.5, 0.5]);
    g.f32s('clip.vision.image_std', [0.5, 0.5, 0.5]);
    g.noise('v.patch_embd.weight', [patch, patch, 3, width], 0.2);
    g.noise('v.patch_embd.bias', [width], 0.02);
    g.noise('v.position_embd.weight', [width, (size / patch) ** 2], 0.02);
    for (let i = 0; i < 2; i++) block(g, `v.blk.${i}`, width, ff, true);
    dense(g, 'mm.0', width, TEXT_EMBEDDING, 0.1);
    dense(g, 'mm.2', TEXT_EMBEDDING, TEXT_EMBEDDING, 0.5);
  } else if (type === 'qwen2a') {
    const [width, ff, mels] = [32, 48, 128];
    g.bool('clip.has_vision_encoder', false);
    g.bool('clip.has_audio_encoder', true);
    g.string('clip.audio.projector_type', 'qwen2a');
    for (const [k, v] of [['embedding_length', width], ['feed_forward_length', ff], ['block_count', 1],
      ['projection_dim', TEXT_EMBEDDING], ['attention.head_count', 4], ['num_mel_bins', mels]]) g.u32(`clip.audio.${k}`, v);
    g.f32('clip.audio.attention.layer_norm_epsilon', 1e-5);
    g.noise('a.conv1d.1.weight', [3, mels, width], 0.1);
    g.noise('a.conv1d.1.bias', [1, width], 0.02);
    g.noise('a.conv1d.2.weight', [3, width, width], 0.1);
    g.noise('a.conv1d.2.bias', [1, width], 0.02);
    g.noise('a.position_embd.weight', [width, 1500], 0.02);
    block(g, 'a.blk.0', width, ff, false); // Whisper's key projection has no bias
    norm(g, 'a.post_ln', width);
    dense(g, 'mm.a.fc', width, TEXT_EMBEDDING, 0.5);
  } else {
    throw new Error(`unknown projector type ${type}`);
  }
  await writeFile(path, g.bytes());
}

function block(g, p, width, ff, keyBias) {
  for (const m of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) {
    g.noise(`${p}.${m}.weight`, [width, width], 0.1);
    if (m !== 'attn_k' || keyBias) g.noise(`${p}.${m}.bias`, [width], 0.02);
  }
  norm(g, `${p}.ln1`, width);
  norm(g, `${p}.ln2`, width);
  dense(g, `${p}.ffn_up`, width, ff, 0.1);
  dense(g, `${p}.ffn_down`, ff, width, 0.1);
}

function dense(g, name, input, output, scale) {
  g.noise(`${name}.weight`, [input, output], scale);
  g.noise(`${name}.bias`, [output], 0.02);
}

function norm(g, name, width) {
  g.tensor(`${name}.weight`, [width], new Float32Array(width).fill(1));
  g.tensor(`${name}.bias`, [width], new Float32Array(width));
}

/** A minimal GGUF v3 writer: metadata, then F32 tensors aligned to 32 bytes. */
class Gguf {
  meta = [];
  tensors = [];
  seed = 0x2545f491;

  string(key, value) { this.meta.push([key, 8, value]); }
  bool(key, value) { this.meta.push([key, 7, value]); }
  u32(key, value) { this.meta.push([key, 4, value]); }
  f32(key, value) { this.meta.push([key, 6, value]); }
  f32s(key, values) { this.meta.push([key, 9, values]); }
  tensor(name, dims, data) { this.tensors.push({ name, dims, data }); }

  noise(name, dims, scale) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      // xorshift32: the same numbers on every machine.
      this.seed ^= this.seed << 13; this.seed >>>= 0;
      this.seed ^= this.seed >>> 17;
      this.seed ^= this.seed << 5; this.seed >>>= 0;
      data[i] = (this.seed / 0x100000000 * 2 - 1) * scale;
    }
    this.tensor(name, dims, data);
  }

  bytes() {
    const parts = [];
    const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
    const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
    const str = (s) => { const b = Buffer.from(s, 'utf8'); u64(b.length); parts.push(b); };
    const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); };
    parts.push(Buffer.from('GGUF', 'ascii'));
    u32(3);
    u64(this.tensors.length);
    u64(this.meta.length);
    for (const [key, type, value] of this.meta) {
      str(key);
      u32(type);
      if (type === 8) str(value);
      else if (type === 7) parts.push(Buffer.from([value ? 1 : 0]));
      else if (type === 4) u32(value);
      else if (type === 6) f32(value);
      else { u32(6); u64(value.length); value.forEach(f32); }
    }
    let offset = 0;
    const align = (n) => Math.ceil(n / 32) * 32;
    for (const t of this.tensors) {
      str(t.name);
      u32(t.dims.length);
      t.dims.forEach(u64);
      u32(0); // F32
      u64(offset);
      offset += align(t.data.byteLength);
    }
    let header = Buffer.concat(parts);
    header = Buffer.concat([header, Buffer.alloc(align(header.length) - header.length)]);
    const data = this.tensors.map((t) => {
      const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      return Buffer.concat([b, Buffer.alloc(align(b.length) - b.length)]);
    });
    return Buffer.concat([header, ...data]);
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A `width`×`height` RGB PNG of noise from `seed`. */
export function png(seed, width = 40, height = 30) {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 3 + 1)] = 0; // filter: none
    for (let x = 0; x < width * 3; x++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      rows[y * (width * 3 + 1) + 1 + x] = s & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** `seconds` of a 440 Hz tone, 16-bit mono PCM WAV at 16 kHz. */
export function wav(seconds = 1, rate = 16000) {
  const samples = Math.round(rate * seconds);
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
}
