// A fake Bedrock Converse endpoint on loopback, speaking the wire format the real SDK client
// expects (as tests/common/fake_bedrock.rs does): `POST /model/{modelId, percent-encoded}/converse`
// with a JSON body; success is a `toolUse` of the declared tool, with a usage block; throttling
// is HTTP 429 with `x-amzn-ErrorType: ThrottlingException` and `{"message": …}`.
//
// Its behaviour is keyed by the SECTION a request is for (read from the prompt's
// `Section: "<title>"` line), never by arrival order across sections, so that two runs with
// different concurrency and interleaving see exactly the same answers:
//   - throttleFirst: {title: K}  the first K requests for that section are throttled, then answers;
//   - throttleAlways: [title]    every request for that section is throttled;
//   - every other section gets a good answer.
// The answer passes the editor's guards: it cites exactly the item ids of the prompt, has no
// link, and each summary is the item's own title (so it names nothing and no number that the
// item does not); the intro is a neutral sentence.

import http from 'node:http';

const TOOL_NAME = 'write_section';
const INTRO = "The week's main developments in this area.";

/** The section title and the items (as the editor sent them) of a Converse request body. */
export function parsePrompt(request) {
  const text = request?.messages?.[0]?.content?.[0]?.text ?? '';
  const title = /^Section: "((?:[^"\\]|\\.)*)"/m.exec(text)?.[1] ?? null;
  const start = text.indexOf('<<<ITEMS\n');
  const end = text.indexOf('\nITEMS>>>');
  let items = [];
  if (start >= 0 && end > start) {
    try {
      items = JSON.parse(text.slice(start + 9, end));
    } catch {
      items = [];
    }
  }
  return { title, items };
}

function answer(items, n) {
  const input = {
    intro: INTRO,
    items: items.map((item) => ({ item_id: String(item.id ?? ''), summary: `${item.title ?? ''}.` })),
  };
  return {
    output: {
      message: {
        role: 'assistant',
        content: [{ toolUse: { toolUseId: `tooluse_${n}`, name: TOOL_NAME, input } }],
      },
    },
    stopReason: 'tool_use',
    usage: { inputTokens: 1200, outputTokens: 300, totalTokens: 1500 },
    metrics: { latencyMs: 42 },
  };
}

/**
 * Starts the fake on 127.0.0.1:`port` (0: any free port).
 * Returns {port, endpoint, stats, close()}; stats.bySection[title] = {requests, throttled, answered}.
 */
export async function startFakeBedrock({ port = 0, throttleFirst = {}, throttleAlways = [], name = 'fake-bedrock' } = {}) {
  const always = new Set(throttleAlways);
  const stats = { requests: 0, paths: [], bySection: {}, unparsed: 0 };
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      n += 1;
      stats.requests += 1;
      stats.paths.push(`${req.method} ${req.url}`);
      const send = (status, body, errorType) => {
        const text = JSON.stringify(body);
        const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
        if (errorType) headers['x-amzn-ErrorType'] = errorType;
        res.writeHead(status, headers);
        res.end(text);
      };
      if (req.method !== 'POST' || !/^\/model\/[^/]+\/converse$/.test(req.url ?? '')) {
        send(404, { message: `${name}: no such operation ${req.method} ${req.url}` }, 'UnknownOperationException');
        return;
      }
      let request;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(400, { message: 'the request body is not JSON' }, 'ValidationException');
        return;
      }
      const { title, items } = parsePrompt(request);
      if (title === null) stats.unparsed += 1;
      const key = title ?? '(no section)';
      const s = (stats.bySection[key] ??= { requests: 0, throttled: 0, answered: 0 });
      s.requests += 1;
      const throttle = always.has(key) || (throttleFirst[key] !== undefined && s.requests <= throttleFirst[key]);
      if (throttle) {
        s.throttled += 1;
        send(429, { message: 'Too many requests, please wait before trying again.' }, 'ThrottlingException');
        return;
      }
      s.answered += 1;
      send(200, answer(items, n));
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
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
