// A fake CloudWatch endpoint for the assemble function, which publishes the run's figures with
// `PutMetricData`. aws-sdk-cloudwatch 1.140 speaks Smithy RPCv2-CBOR: `POST
// /service/GraniteServiceVersion20100801/operation/PutMetricData`, header
// `smithy-protocol: rpc-v2-cbor`, a CBOR body. Success is HTTP 200 with the same header and an
// empty CBOR map. The metrics are decoded (a minimal CBOR reader) so the driver can show them.

import http from 'node:http';

/** Decodes one CBOR item (RFC 8949) from `buf` at `pos`: {value, pos}. Enough for SDK requests. */
function decode(buf, pos = 0) {
  const initial = buf[pos++];
  const major = initial >> 5;
  const info = initial & 0x1f;
  const readLength = () => {
    if (info < 24) return info;
    if (info === 24) return buf[pos++];
    if (info === 25) { const v = buf.readUInt16BE(pos); pos += 2; return v; }
    if (info === 26) { const v = buf.readUInt32BE(pos); pos += 4; return v; }
    if (info === 27) { const v = Number(buf.readBigUInt64BE(pos)); pos += 8; return v; }
    if (info === 31) return -1; // indefinite
    throw new Error(`CBOR: bad additional info ${info}`);
  };
  const isBreak = () => buf[pos] === 0xff && (pos++, true);
  switch (major) {
    case 0: return { value: readLength(), pos };
    case 1: return { value: -1 - readLength(), pos };
    case 2:
    case 3: {
      const n = readLength();
      let bytes;
      if (n < 0) {
        const parts = [];
        while (!isBreak()) { const r = decode(buf, pos); pos = r.pos; parts.push(Buffer.from(r.value)); }
        bytes = Buffer.concat(parts);
      } else {
        bytes = buf.subarray(pos, pos + n);
        pos += n;
      }
      return { value: major === 3 ? bytes.toString('utf8') : bytes, pos };
    }
    case 4: {
      const n = readLength();
      const out = [];
      while (n < 0 ? !isBreak() : out.length < n) { const r = decode(buf, pos); pos = r.pos; out.push(r.value); }
      return { value: out, pos };
    }
    case 5: {
      const n = readLength();
      const out = {};
      let count = 0;
      while (n < 0 ? !isBreak() : count < n) {
        const k = decode(buf, pos); pos = k.pos;
        const v = decode(buf, pos); pos = v.pos;
        out[k.value] = v.value;
        count++;
      }
      return { value: out, pos };
    }
    case 6: { readLength(); return decode(buf, pos); } // tag (timestamps): the tagged value
    case 7: {
      if (info === 20) return { value: false, pos };
      if (info === 21) return { value: true, pos };
      if (info === 22 || info === 23) return { value: null, pos };
      if (info === 25) { const v = half(buf.readUInt16BE(pos)); return { value: v, pos: pos + 2 }; }
      if (info === 26) return { value: buf.readFloatBE(pos), pos: pos + 4 };
      if (info === 27) return { value: buf.readDoubleBE(pos), pos: pos + 8 };
      throw new Error(`CBOR: simple value ${info}`);
    }
    default: throw new Error(`CBOR: major type ${major}`);
  }
}
function half(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Starts the fake on 127.0.0.1:`port`. Returns {port, endpoint, calls, close()}. */
export async function startFakeCloudWatch({ port = 0 } = {}) {
  const calls = []; // {operation, namespace, metrics: {name: value}, error}
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const operation = /\/operation\/([A-Za-z]+)$/.exec(req.url ?? '')?.[1] ?? req.url;
      const call = { operation, protocol: req.headers['smithy-protocol'] ?? null, namespace: null, metrics: {} };
      try {
        const body = decode(Buffer.concat(chunks)).value;
        call.namespace = body.Namespace ?? null;
        for (const d of body.MetricData ?? []) call.metrics[d.MetricName] = d.Value;
      } catch (e) {
        call.error = `undecodable body: ${e.message}`;
      }
      calls.push(call);
      const empty = Buffer.from([0xa0]); // {}
      res.writeHead(200, { 'smithy-protocol': 'rpc-v2-cbor', 'Content-Type': 'application/cbor', 'Content-Length': empty.length });
      res.end(empty);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  return {
    port: actual,
    endpoint: `http://127.0.0.1:${actual}`,
    calls,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
