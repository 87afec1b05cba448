// Waits until each `cargo lambda watch` answers, then invokes its function once with an empty
// event so that the function's process is started (and, if cargo had anything left to build,
// built) before the state machine runs: aws-local-stepfunctions gives a Task 60 s by default (the
// ASL spec's TimeoutSeconds default), which a cold start through `cargo run` must not eat into.
// An empty event is refused by every step with `InvalidInput` before it reads or writes anything;
// that answer means the function is up.

import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether something accepts TCP connections at the URL's host and port. */
function listening(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * watchUrls: Map function name -> base URL of the watch serving it. Throws on the first function
 * that does not come up before `timeoutMs` has passed. Returns {function: seconds}.
 */
export async function warmUp(watchUrls, { timeoutMs = 300_000, log = console.error } = {}) {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  // 1. Every invoke server listens. A TCP connection only: an HTTP request to `/` is an
  // invocation of the package's default function for a watch started with --package.
  for (const [fn, url] of watchUrls) {
    while (!(await listening(url))) {
      if (Date.now() > deadline) throw new Error(`the cargo lambda watch of ${fn} does not listen on ${url}`);
      await sleep(250);
    }
  }
  // 2. Each function answers (one after the other: builds would queue on the cargo lock anyway).
  const seconds = {};
  for (const [fn, url] of watchUrls) {
    const started = Date.now();
    let res;
    let text;
    try {
      res = await fetch(`${url}/2015-03-31/functions/${fn}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(left()),
      });
      text = await res.text();
    } catch (e) {
      throw new Error(`${fn}: no answer from its cargo lambda watch (${e.message}): see its log`);
    }
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      // reported below
    }
    if (!body || typeof body !== 'object') {
      throw new Error(`${fn}: HTTP ${res.status}, unexpected body ${JSON.stringify(String(text).slice(0, 300))}`);
    }
    if (typeof body.errorType === 'string' && body.errorType !== 'InvalidInput') {
      // Not the step refusing an empty event: the function could not start or run.
      throw new Error(`${fn}: HTTP ${res.status} ${body.errorType}: ${body.errorMessage}`);
    }
    seconds[fn] = (Date.now() - started) / 1000;
  }
  log(`warm-up: every function answers (${Object.entries(seconds).map(([f, s]) => `${f} ${s.toFixed(1)} s`).join(', ')})`);
  return seconds;
}
