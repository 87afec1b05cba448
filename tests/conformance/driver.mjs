#!/usr/bin/env node
// Conformance driver: runs statemachine/newsletter.asl.json through an independent ASL
// interpreter (npm `aws-local-stepfunctions`), every Task sent to the real Lambda binaries
// served by `cargo lambda watch`, and checks that the newsletter it produces is identical to the
// one `vectora run` (the project's own interpreter, src/asl) produces on the same fixtures, with
// the same fake Bedrock behaviour:
//   - section A: the first K Converse requests are throttled (K = the SDK's attempts, 1, so one
//     GenerateSection invocation fails with `Throttled`); the ASL Retry must recover it;
//   - section B: always throttled; Retry must run out and Catch must route it to
//     WriteWithTemplate (the template editor).
// It also checks, engine against engine, the retries and catches per state and Map index, the
// execution output, the data-store artefacts, and that MaxConcurrencyPath is honoured.
// Started by .ci/conformance, which builds the binaries, starts one `cargo lambda watch` per
// function with the functions' environment pointing at this driver's fakes (Bedrock, CloudWatch),
// and passes the options below. Files it leaves in --out-dir: events.jsonl (the engine's event
// log), invocations.json, fake-bedrock.json (traffic and published metrics),
// reference.stderr.log (vectora run's progress).

// aws-local-stepfunctions 3.x needs Node >= 22 (Promise.withResolvers). Polyfill it on older
// Nodes BEFORE loading the package: hence the dynamic import below, not a hoisted static one.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, isDeepStrictEqual } from 'node:util';

import { startFakeBedrock } from './fake-bedrock.mjs';
import { startFakeCloudWatch } from './fake-cloudwatch.mjs';
import { startFakeSes } from './fake-ses.mjs';
import { warmUp } from './warm-up.mjs';

const { StateMachine } = await import('aws-local-stepfunctions');

// ---------------------------------------------------------------------------------------------
// Options

const { values: opt } = parseArgs({
  options: {
    root: { type: 'string' }, // repository root
    watch: { type: 'string' }, // plan=http://127.0.0.1:PORT,fetch=…: the cargo lambda watch serving each function
    'bedrock-port': { type: 'string' }, // where the functions' AWS_ENDPOINT_URL_BEDROCK_RUNTIME points
    'cloudwatch-port': { type: 'string' }, // where the functions' AWS_ENDPOINT_URL_CLOUDWATCH points
    'ses-port': { type: 'string' }, // where the deliver function's AWS_ENDPOINT_URL_SESV2 points
    data: { type: 'string' }, // VECTORA_DATA_STORE of the functions
    newsletters: { type: 'string' }, // VECTORA_NEWSLETTER_STORE of the functions
    'ref-store': { type: 'string' }, // --store of the reference `vectora run`
    vectora: { type: 'string' }, // the vectora binary
    config: { type: 'string' }, // config directory (default <root>/fixtures)
    client: { type: 'string', default: 'lai_weekly' },
    date: { type: 'string', default: '2026-11-23' },
    'period-days': { type: 'string', default: '7' },
    'throttle-once': { type: 'string' }, // section id; default: the client's first section
    'throttle-always': { type: 'string', default: 'clinical_updates' }, // section id
    'sdk-attempts': { type: 'string', default: '1' }, // Converse attempts per invocation (client_from_env disables SDK retries)
    'out-dir': { type: 'string' }, // where the event log and the reference logs go
    'task-timeout-ms': { type: 'string', default: '300000' },
    'warm-up-timeout-s': { type: 'string', default: '180' },
  },
  strict: true,
});

for (const required of ['root', 'watch', 'bedrock-port', 'data', 'newsletters', 'ref-store', 'vectora', 'out-dir']) {
  if (!opt[required]) fail(`missing --${required}`);
}
const root = path.resolve(opt.root);
const configDir = path.resolve(opt.config ?? path.join(root, 'fixtures'));
const outDir = path.resolve(opt['out-dir']);
fs.mkdirSync(outDir, { recursive: true });
const client = opt.client;
const runDate = opt.date;
const periodDays = Number(opt['period-days']);
const sdkAttempts = Number(opt['sdk-attempts']);
const [yyyy, mm, dd] = runDate.split('-');

let referenceChild = null; // the reference `vectora run`, while it runs
function fail(message) {
  console.error(`conformance: FAIL: ${message}`);
  referenceChild?.kill('SIGTERM');
  process.exit(1);
}
function log(message) {
  console.error(`conformance: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// The client's sections (ids and titles): the fake Bedrock sees titles, the checks speak ids.
// A minimal reader of the `sections:` list of clients/{client}.yaml (id/title pairs), enough for
// the fixtures' plain layout; a richer YAML would need a YAML parser.

function clientSections(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^sections:\s*(#.*)?$/.test(l));
  if (start < 0) fail(`${file}: no top-level sections: list`);
  const sections = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level key
    const id = /^\s*-\s+id:\s*(.+?)\s*$/.exec(line);
    if (id) sections.push({ id: unquote(id[1]), title: null });
    const title = /^\s+title:\s*(.+?)\s*$/.exec(line);
    if (title && sections.length) sections[sections.length - 1].title = unquote(title[1]);
  }
  if (!sections.length || sections.some((s) => !s.title)) fail(`${file}: could not read the sections' ids and titles`);
  return sections;
}
function unquote(s) {
  const m = /^(['"])(.*)\1$/.exec(s);
  return m ? m[2] : s;
}

const sections = clientSections(path.join(configDir, 'clients', `${client}.yaml`));
const sectionA = sections.find((s) => s.id === (opt['throttle-once'] ?? sections[0].id));
const sectionB = sections.find((s) => s.id === opt['throttle-always']);
if (!sectionA) fail(`--throttle-once ${opt['throttle-once']}: no such section`);
if (!sectionB) fail(`--throttle-always ${opt['throttle-always']}: no such section`);
if (sectionA.id === sectionB.id) fail('sections A and B must differ');
const fakeBehaviour = { throttleFirst: { [sectionA.title]: sdkAttempts }, throttleAlways: [sectionB.title] };

// ---------------------------------------------------------------------------------------------
// The definition, as Step Functions would receive it from SAM: `${PlanFunctionArn}` →
// `arn:aws:lambda:eu-west-3:123456789012:function:plan` (DefinitionSubstitutions). The engine
// validates ARNs, and the function a Task invokes is the ARN's function name — which is what
// `cargo lambda watch` serves: each function's bin name is its step name.

const aslPath = path.join(root, 'statemachine', 'newsletter.asl.json');
const aslText = fs.readFileSync(aslPath, 'utf8');
const kebab = (camel) => camel.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase());
const substituted = aslText.replace(
  /\$\{([A-Za-z0-9]+)FunctionArn\}/g,
  (_, name) => `arn:aws:lambda:eu-west-3:123456789012:function:${kebab(name)}`,
);
const definition = JSON.parse(substituted);

/** Every state of the definition, Map item processors included: [{name, state, depth}]. */
function allStates(machine, depth = 0, out = []) {
  for (const [name, state] of Object.entries(machine.States)) {
    out.push({ name, state, depth });
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) allStates(inner, depth + 1, out);
    for (const branch of state.Branches ?? []) allStates(branch, depth + 1, out);
  }
  return out;
}
const states = allStates(definition);

// aws-local-stepfunctions 3.0 implements MaxConcurrencyPath (checked in its source and by probe:
// the path must select an integer >= 0, 0 meaning unlimited, as on AWS), so the definition is run
// unchanged whichever of MaxConcurrency / MaxConcurrencyPath the Map states use.
const mapConcurrency = states
  .filter((s) => s.state.Type === 'Map')
  .map((s) => `${s.name}: ${s.state.MaxConcurrencyPath ? `MaxConcurrencyPath ${s.state.MaxConcurrencyPath}` : `MaxConcurrency ${s.state.MaxConcurrency ?? 'unset'}`}`);

// Task overrides are keyed by STATE name in this engine (in Map item processors too): map each
// Task state to a handler that invokes the function its Resource names. Two Task states of the
// same name with different resources would be ambiguous: refuse.
const taskFunction = new Map();
for (const { name, state } of states) {
  if (state.Type !== 'Task') continue;
  const fn = /^arn:aws:lambda:[^:]+:\d{12}:function:([A-Za-z0-9_-]+)$/.exec(state.Resource)?.[1];
  if (!fn) fail(`Task ${name}: Resource ${state.Resource} is not a Lambda function ARN after substitution`);
  if (taskFunction.has(name) && taskFunction.get(name) !== fn) fail(`two Task states named ${name} invoke different functions`);
  taskFunction.set(name, fn);
}

// ---------------------------------------------------------------------------------------------
// Invoking a function under `cargo lambda watch` (the Lambda Invoke API). A function error comes
// back as a non-2xx status (watch: HTTP 500) or, as on AWS, with `X-Amz-Function-Error`, and a
// body {errorType, errorMessage}: it is rethrown as an Error whose `name` is the errorType — the
// engine matches Retry/Catch `ErrorEquals` against `error.name` and puts `error.message` in the
// Catch's `Cause`. The message is the errorMessage alone, which is what the local runner puts in
// `Cause` (src/runner.rs: TaskFailure.cause = the error's text).

const invocations = []; // {state, fn, key, ok, error, ms}
// Which Map each Task state runs in, to measure how many iterations the engine runs at once.
const mapOfState = new Map();
for (const { name, state } of states) {
  for (const inner of Object.keys((state.ItemProcessor ?? state.Iterator)?.States ?? {})) mapOfState.set(inner, name);
}
const inFlight = new Map(); // Map state -> tasks in flight
const peak = new Map(); // Map state -> most tasks in flight at once
// One `cargo lambda watch` per function (see .ci/conformance: watch starts a function with
// `cargo run --bin <name>`, which in this workspace needs the function's package).
const watchUrls = new Map(opt.watch.split(',').filter(Boolean).map((kv) => {
  const [fn, url] = kv.split('=');
  return [fn, url.replace(/\/$/, '')];
}));
for (const fn of new Set(taskFunction.values())) {
  if (!watchUrls.has(fn)) fail(`--watch names no cargo lambda watch for function ${fn}`);
}
const taskTimeoutMs = Number(opt['task-timeout-ms']);

function invocationKey(fn, input) {
  return input?.section?.section_id ?? input?.source?.source_id ?? null;
}

async function invoke(state, fn, input) {
  const started = Date.now();
  const key = invocationKey(fn, input);
  const record = { state, fn, key, ok: false, error: null, ms: 0, input, result: undefined };
  invocations.push(record);
  const map = mapOfState.get(state);
  if (map) {
    inFlight.set(map, (inFlight.get(map) ?? 0) + 1);
    peak.set(map, Math.max(peak.get(map) ?? 0, inFlight.get(map)));
  }
  try {
    return await invokeOnce(record, fn, input, started);
  } finally {
    if (map) inFlight.set(map, inFlight.get(map) - 1);
  }
}

async function invokeOnce(record, fn, input, started) {
  let res;
  let text;
  try {
    res = await fetch(`${watchUrls.get(fn)}/2015-03-31/functions/${fn}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(taskTimeoutMs),
    });
    text = await res.text();
  } catch (e) {
    record.error = 'Conformance.InvokeFailed';
    record.ms = Date.now() - started;
    throw Object.assign(new Error(`invoking ${fn} through cargo lambda watch failed: ${e.message}`), {
      name: 'Conformance.InvokeFailed',
    });
  }
  record.ms = Date.now() - started;
  let body;
  try {
    body = text.length ? JSON.parse(text) : null;
  } catch {
    body = undefined;
  }
  const functionError = res.headers.get('x-amz-function-error');
  if (res.ok && !functionError && body !== undefined) {
    record.ok = true;
    if (fn === 'plan') record.result = body;
    return body;
  }
  if (body && typeof body === 'object' && typeof body.errorType === 'string') {
    record.error = body.errorType;
    const error = new Error(body.errorMessage ?? '');
    error.name = body.errorType;
    throw error;
  }
  record.error = 'Conformance.InvokeFailed';
  throw Object.assign(
    new Error(`${fn}: HTTP ${res.status} from cargo lambda watch, body: ${String(text).slice(0, 500)}`),
    { name: 'Conformance.InvokeFailed' },
  );
}

const taskResourceLocalHandlers = Object.fromEntries(
  [...taskFunction].map(([state, fn]) => [state, (input) => invoke(state, fn, input)]),
);

// The Retry blocks wait up to 15 + 30 + 60 s (FULL jitter) before giving up on a
// Throttled section: the engine's retryIntervalOverrides sets every state's retry pause to 0 ms
// so the job stays fast. Only the pause changes; which errors are retried, how many times, and
// where Catch goes are still the definition's (that is what this job checks).
const retryIntervalOverrides = Object.fromEntries(
  states.filter((s) => Array.isArray(s.state.Retry)).map((s) => [s.name, 0]),
);

// ---------------------------------------------------------------------------------------------
// The reference: `vectora run` (src/asl) on the same fixtures, its own fake Bedrock instance with
// the same per-section behaviour and fresh counters, its own store (the LLM cache lives in the
// data store: a shared one would let the second run skip the model). It runs concurrently with
// the conformance execution: it really waits out the Retry backoff (no override there).

function runReference(endpoint) {
  const args = [
    'run', '--client', client, '--config', configDir, '--offline', '--date', runDate,
    '--period-days', String(periodDays), '--editor', 'bedrock', '--store', opt['ref-store'],
    // The message the deliver function sends, written as a file to compare with.
    '--deliver', 'eml',
  ];
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'eu-west-3',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_ENDPOINT_URL;
  delete env.VECTORA_BEDROCK_MODEL_ID;
  const stderrPath = path.join(outDir, 'reference.stderr.log');
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(opt.vectora, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    referenceChild = child;
    const stdout = [];
    const stderr = fs.createWriteStream(stderrPath);
    child.stdout.on('data', (c) => stdout.push(c));
    child.stderr.pipe(stderr);
    child.on('error', (e) => resolve({ code: -1, error: e.message, stdout: '', stderrPath, ms: Date.now() - started }));
    child.on('close', (code) => {
      referenceChild = null;
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderrPath, ms: Date.now() - started, args });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Run both.

const input = { client_id: client, period_days: periodDays, run_date: runDate };
const fakeConformance = await startFakeBedrock({ port: Number(opt['bedrock-port']), ...fakeBehaviour, name: 'fake-bedrock(conformance)' });
const fakeReference = await startFakeBedrock({ port: 0, ...fakeBehaviour, name: 'fake-bedrock(reference)' });
// assemble publishes its metrics with CloudWatch PutMetricData (vectora run keeps them in memory).
const fakeCloudWatch = opt['cloudwatch-port'] ? await startFakeCloudWatch({ port: Number(opt['cloudwatch-port']) }) : null;
// deliver sends through SES v2 (vectora run --deliver eml writes the same message as a file).
const fakeSes = opt['ses-port'] ? await startFakeSes({ port: Number(opt['ses-port']) }) : null;
log(`fake Bedrock: conformance ${fakeConformance.endpoint}, reference ${fakeReference.endpoint}`);
log(`section A (${sectionA.id}, "${sectionA.title}"): first ${sdkAttempts} Converse requests throttled; section B (${sectionB.id}, "${sectionB.title}"): always throttled`);
log(`Map concurrency: ${mapConcurrency.join('; ')}`);

let machine;
try {
  machine = new StateMachine(definition); // validates the definition (asl-validator), ARNs included
} catch (e) {
  fail(`aws-local-stepfunctions refuses the definition: ${e.message}`);
}

// The reference starts at once: it spends about a minute in the definition's real Retry backoff,
// while the functions under watch start up.
const referencePromise = runReference(fakeReference.endpoint);

try {
  await warmUp(watchUrls, { timeoutMs: Number(opt['warm-up-timeout-s']) * 1000, log });
} catch (e) {
  fail(`warm-up: ${e.message}`);
}
// The warm-up's empty events must have been refused before touching any store.
const touched = fs.existsSync(opt.data) ? fs.readdirSync(opt.data, { recursive: true }) : [];
if (touched.length) fail(`the warm-up invocations wrote to the data store: ${touched.slice(0, 5).join(', ')}`);

const t0 = Date.now();
const execution = machine.run(input, { overrides: { taskResourceLocalHandlers, retryIntervalOverrides } });
const events = [];
const eventsDone = (async () => {
  for await (const event of execution.eventLogs) events.push(event);
})();
let output;
let executionError = null;
try {
  output = await execution.result;
} catch (e) {
  executionError = e;
}
await eventsDone;
const conformanceMs = Date.now() - t0;
fs.writeFileSync(path.join(outDir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'invocations.json'), JSON.stringify(invocations, null, 2));
log(`conformance execution finished in ${(conformanceMs / 1000).toFixed(1)} s (${invocations.length} invocations); waiting for the reference run`);

const reference = await referencePromise;
await fakeConformance.close();
await fakeReference.close();
await fakeCloudWatch?.close();
await fakeSes?.close();
fs.writeFileSync(path.join(outDir, 'fake-bedrock.json'), JSON.stringify({ conformance: fakeConformance.stats, reference: fakeReference.stats, cloudwatch: fakeCloudWatch?.calls ?? null }, null, 2));

// ---------------------------------------------------------------------------------------------
// Checks.

const count = (xs, f) => xs.reduce((m, x) => m.set(f(x), (m.get(f(x)) ?? 0) + 1), new Map());
const problems = [];
const check = (ok, message) => {
  if (!ok) problems.push(message);
  return ok;
};

if (executionError) {
  const cause = executionError.cause ?? executionError;
  problems.push(`the aws-local-stepfunctions execution failed: ${cause?.name}: ${cause?.message}`);
}
if (reference.code !== 0) {
  problems.push(`the reference vectora run exited with ${reference.code}${reference.error ? ` (${reference.error})` : ''}: see ${reference.stderrPath}`);
}

// What the engine did, from its event log.
const visited = new Map(); // state name -> times entered
const retries = []; // {state, key, attempt, error}
const catches = []; // {state, key, next}
const failures = []; // {state, key, error}
const keyOf = (event) => event.state?.input?.section?.section_id ?? event.state?.input?.source?.source_id ?? null;
for (const e of events) {
  if (e.type === 'StateEntered') visited.set(e.state.name, (visited.get(e.state.name) ?? 0) + 1);
  if (e.type === 'StateFailed') failures.push({ state: e.state.name, key: keyOf(e), error: e.Error });
  if (e.type === 'StateRetried') retries.push({ state: e.state.name, key: keyOf(e), attempt: e.retry.attempt, errors: e.retry.retrier.ErrorEquals });
  if (e.type === 'StateCaught') catches.push({ state: e.state.name, key: keyOf(e), next: e.catch.catcher.Next });
}

// The Sections Map's items: both sections must be in this week's newsletter, or the scenario
// tests nothing.
const generated = invocations.filter((i) => i.fn === 'generate-section').map((i) => i.key);
for (const s of [sectionA, sectionB]) {
  check(generated.includes(s.id), `section ${s.id} was never generated: it has no items this week; pick another with --throttle-once/--throttle-always`);
}

// (1) Section A: GenerateSection failed with Throttled, was retried, then succeeded; no Catch.
const aRuns = invocations.filter((i) => i.state === 'GenerateSection' && i.key === sectionA.id);
const aFailed = aRuns.filter((i) => i.error === 'Throttled').length;
check(aFailed >= 1, `section A (${sectionA.id}): GenerateSection never failed with Throttled (invocations: ${JSON.stringify(aRuns)})`);
check(aRuns.length > 0 && aRuns[aRuns.length - 1].ok, `section A (${sectionA.id}): GenerateSection did not end in a success`);
check(retries.some((r) => r.state === 'GenerateSection' && r.key === sectionA.id && r.errors.includes('Throttled')),
  `section A (${sectionA.id}): no StateRetried event by the Throttled retrier`);
check(!catches.some((c) => c.key === sectionA.id), `section A (${sectionA.id}): was caught, expected to be recovered by Retry`);
check(!invocations.some((i) => i.state === 'WriteWithTemplate' && i.key === sectionA.id), `section A (${sectionA.id}): went to WriteWithTemplate`);

// (2) Section B: every GenerateSection attempt failed with Throttled, Retry ran out (MaxAttempts of
// the Throttled retrier + the first attempt), Catch routed it to WriteWithTemplate, which succeeded.
const throttledRetrier = states.find((s) => s.name === 'GenerateSection')?.state.Retry?.find((r) => r.ErrorEquals.includes('Throttled'));
if (!throttledRetrier) fail('the definition has no GenerateSection Task with a Retry on Throttled: this scenario needs one');
const bRuns = invocations.filter((i) => i.state === 'GenerateSection' && i.key === sectionB.id);
check(bRuns.length === throttledRetrier.MaxAttempts + 1 && bRuns.every((i) => i.error === 'Throttled'),
  `section B (${sectionB.id}): expected ${throttledRetrier.MaxAttempts + 1} GenerateSection invocations all failing with Throttled, got ${JSON.stringify(bRuns.map((i) => i.error ?? 'ok'))}`);
check(catches.some((c) => c.state === 'GenerateSection' && c.key === sectionB.id && c.next === 'WriteWithTemplate'),
  `section B (${sectionB.id}): no StateCaught event routing GenerateSection to WriteWithTemplate`);
const bTemplate = invocations.filter((i) => i.state === 'WriteWithTemplate' && i.key === sectionB.id);
check(bTemplate.length === 1 && bTemplate[0].ok, `section B (${sectionB.id}): WriteWithTemplate did not run once and succeed (${JSON.stringify(bTemplate)})`);

// Map concurrency: the engine resolved MaxConcurrencyPath against the plan's output and never ran
// more iterations at once; vectora run announces the figure it used ("N to process, M at a time").
const referenceProgress = fs.existsSync(reference.stderrPath) ? fs.readFileSync(reference.stderrPath, 'utf8') : '';
const referenceConcurrency = Object.fromEntries(
  [...referenceProgress.matchAll(/^\s+(\S+): (\d+) to process, (\d+) at a time$/gm)].map((m) => [m[1], Number(m[3])]),
);
const planOutput = invocations.find((i) => i.fn === 'plan' && i.ok)?.result;
const concurrencyReport = [];
for (const { name, state } of states.filter((x) => x.state.Type === 'Map')) {
  let limit = state.MaxConcurrency ?? 0;
  if (state.MaxConcurrencyPath) {
    // The path is read from the Map state's input: {…execution input, plan: <plan output>}.
    const segments = state.MaxConcurrencyPath.replace(/^\$\.?/, '').split('.').filter(Boolean);
    limit = segments.reduce((v, k) => (v == null ? v : v[k]), { ...input, plan: planOutput });
  }
  // .ci/conformance gives the plan function non-default figures (VECTORA_*_CONCURRENCY) while
  // vectora run keeps its defaults: the newsletter must not depend on them.
  concurrencyReport.push(`${name} ≤ ${limit || 'unlimited'} (peak ${peak.get(name) ?? 0}; vectora run: ${referenceConcurrency[name] ?? '?'} at a time)`);
  check(Number.isInteger(limit), `${name}: ${state.MaxConcurrencyPath} does not select an integer in the plan's output (${JSON.stringify(limit)})`);
  check(!limit || (peak.get(name) ?? 0) <= limit, `${name}: the engine ran ${peak.get(name)} iterations at once, more than ${limit}`);
}

// Control flow, engine against engine: the same retries and catches, per state and Map index,
// as vectora run's progress lines ("↻ GenerateSection #2: Throttled, retry 1 in 3.2s",
// "→ GenerateSection #2: Throttled handled by WriteWithTemplate").
const tally = (xs) => Object.fromEntries([...count(xs, (x) => x)].sort());
const jsRetries = tally(events.filter((e) => e.type === 'StateRetried').map((e) => `${e.state.name}#${e.index ?? '-'}`));
const jsCatches = tally(events.filter((e) => e.type === 'StateCaught').map((e) => `${e.state.name}#${e.index ?? '-'}→${e.catch.catcher.Next}`));
const refRetries = tally([...referenceProgress.matchAll(/^\s+↻ (\S+)(?: #(\d+))?: /gm)].map((m) => `${m[1]}#${m[2] ?? '-'}`));
const refCatches = tally([...referenceProgress.matchAll(/^\s+→ (\S+)(?: #(\d+))?: \S+ handled by (\S+)$/gm)].map((m) => `${m[1]}#${m[2] ?? '-'}→${m[3]}`));
check(isDeepStrictEqual(jsRetries, refRetries), `retries differ: aws-local-stepfunctions ${JSON.stringify(jsRetries)}, vectora run ${JSON.stringify(refRetries)} (from ${reference.stderrPath})`);
check(isDeepStrictEqual(jsCatches, refCatches), `catches differ: aws-local-stepfunctions ${JSON.stringify(jsCatches)}, vectora run ${JSON.stringify(refCatches)} (from ${reference.stderrPath})`);

// The fake's view: both fakes must have seen the same requests per section (same behaviour on both
// engines, down to the number of model calls).
const perSection = (stats) => Object.fromEntries(Object.entries(stats.bySection).sort());
check(isDeepStrictEqual(perSection(fakeConformance.stats), perSection(fakeReference.stats)),
  `the two fake Bedrock instances saw different traffic per section: conformance ${JSON.stringify(perSection(fakeConformance.stats))}, reference ${JSON.stringify(perSection(fakeReference.stats))}`);
check(fakeConformance.stats.unparsed === 0 && fakeReference.stats.unparsed === 0, 'a Converse request had no recognisable `Section: "…"` line');

// The execution outputs (the Assemble summary): equal, except output_path, which names each run's
// own store (the CLI prints a local path; the functions' newsletter store is another directory),
// and delivery, which is SES there and a file here (checked below).
const VOLATILE_SUMMARY = ['output_path', 'delivery'];
let referenceSummary = null;
try {
  referenceSummary = JSON.parse(reference.stdout.trim().split('\n').pop());
} catch {
  problems.push(`the reference run printed no JSON summary on stdout: ${JSON.stringify(reference.stdout.slice(0, 300))}`);
}
const strip = (value, keys) => {
  if (Array.isArray(value)) return value.map((v) => strip(v, keys));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)).map(([k, v]) => [k, strip(v, keys)]));
  }
  return value;
};
if (output && referenceSummary) {
  check(isDeepStrictEqual(strip(output, VOLATILE_SUMMARY), strip(referenceSummary, VOLATILE_SUMMARY)),
    `execution outputs differ (ignoring ${VOLATILE_SUMMARY.join(', ')}):\n  aws-local-stepfunctions: ${JSON.stringify(strip(output, VOLATILE_SUMMARY))}\n  vectora run:             ${JSON.stringify(strip(referenceSummary, VOLATILE_SUMMARY))}`);
}

// Delivery: the deliver function sent once through SES, recorded its receipt, and sent the very
// message the reference wrote as newsletter.eml (but for the Date: the send time there, the run
// date in a preview).
if (fakeSes) {
  const sends = fakeSes.calls.filter((c) => c.path === '/v2/email/outbound-emails');
  check(output?.delivery?.status === 'sent', `the execution output's delivery is not sent: ${JSON.stringify(output?.delivery)}`);
  check(referenceSummary?.delivery?.status === 'written', `vectora run --deliver eml wrote no message: ${JSON.stringify(referenceSummary?.delivery)}`);
  check(sends.length === 1 && !sends[0].error, `expected one SendEmail from deliver, got ${JSON.stringify(fakeSes.calls.map((c) => ({ ...c, raw: c.raw?.length })))}`);
  const withoutDate = (m) => m.split('\r\n').filter((l) => !l.startsWith('Date: ')).join('\r\n');
  const [yy, mo, da] = opt.date.split('-');
  const eml = path.join(opt['ref-store'], 'newsletters', client, yy, mo, da, 'newsletter.eml');
  if (sends.length === 1 && fs.existsSync(eml)) {
    check(withoutDate(sends[0].raw) === withoutDate(fs.readFileSync(eml, 'utf8')),
      `the message SES received differs from vectora run's newsletter.eml: ${firstDifference(withoutDate(sends[0].raw), withoutDate(fs.readFileSync(eml, 'utf8')))}`);
  }
  const receipt = path.join(opt.newsletters, client, yy, mo, da, 'delivery.json');
  check(fs.existsSync(receipt) && JSON.parse(fs.readFileSync(receipt, 'utf8')).status === 'sent', `no sent receipt at ${receipt}`);
}

// Metrics: assemble published once, and CloudWatch understood the request.
if (fakeCloudWatch) {
  const puts = fakeCloudWatch.calls.filter((c) => c.operation === 'PutMetricData');
  check(puts.length === 1 && !puts[0].error, `expected one decodable PutMetricData call from assemble, got ${JSON.stringify(fakeCloudWatch.calls)}`);
}

// Files. The newsletter itself (md, html, json) must be byte-identical. report.json records
// wall-clock facts (generated_at, timings, per-step durations) that differ between any two runs:
// it is compared as JSON without exactly those keys. The data stores' run artefacts (raw captures,
// normalized items, matches, selection, drafts, the LLM cache) must be identical too; the step
// journal (runs/…/steps/) records start/finish times and digests of inputs that carry durations,
// so it is not compared.
const VOLATILE_KEYS = {
  'report.json': ['generated_at', 'timings_ms', 'elapsed_ms', 'fetch_ms', 'normalize_ms'],
  'manifest.json': ['planned_at'],
};
const BYTE_EXACT = ['newsletter.md', 'newsletter.html', 'newsletter.json'];
// report.html renders report.json with its timings and the step journal's start times: it must
// be written by both engines, but its bytes differ between any two runs (report.json, compared
// above, holds its facts).
const PRESENCE_ONLY = ['report.html'];
// The step journal (runs/…/steps/{step}[.{source or section}].json) records when each step ran
// and how long it took, and, in assemble's result, the newsletter's path in its own store; it
// also records a digest of the step's input, which must be equal unless that input carries a
// wall-clock value (match gets the sources' fetch/normalize durations, assemble
// $$.Execution.StartTime and the sections' durations): decided per step from the input this
// driver sent, not from a fixed list.
const VOLATILE_JOURNAL = ['started_at', 'finished_at', 'elapsed_ms', 'output_path'];
const WALL_CLOCK_INPUT_KEYS = ['elapsed_ms', 'started_at', 'fetch_ms', 'normalize_ms', 'generated_at', 'planned_at'];
const hasKey = (v, keys) =>
  Array.isArray(v) ? v.some((x) => hasKey(x, keys))
    : v && typeof v === 'object' ? Object.entries(v).some(([k, x]) => keys.includes(k) || hasKey(x, keys)) : false;
const journalInputsWithClock = [];
function journalVolatile(file) {
  const [stepName, ...rest] = path.basename(file, '.json').split('.');
  const key = rest.length ? rest.join('.') : null;
  const sent = invocations.filter((i) => i.fn === stepName && i.key === key && i.ok).pop();
  if (!sent || hasKey(sent.input, WALL_CLOCK_INPUT_KEYS)) {
    journalInputsWithClock.push(path.basename(file));
    return [...VOLATILE_JOURNAL, 'input_sha256'];
  }
  return VOLATILE_JOURNAL;
}

function listFiles(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
  }).sort();
}
function firstDifference(a, b) {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}:\n    aws-local-stepfunctions: ${JSON.stringify(la[i] ?? '<end of file>').slice(0, 400)}\n    vectora run:             ${JSON.stringify(lb[i] ?? '<end of file>').slice(0, 400)}`;
  }
  return 'same lines, different bytes';
}
const compared = { exact: [], json: [] };
function compareTrees(label, confDir, refDir, { skip = () => false } = {}) {
  const conf = listFiles(confDir).filter((f) => !skip(f));
  const ref = listFiles(refDir).filter((f) => !skip(f));
  check(conf.length > 0, `${label}: the conformance run wrote nothing under ${confDir}`);
  for (const f of ref.filter((f) => !conf.includes(f))) problems.push(`${label}/${f}: written by vectora run only`);
  for (const f of conf.filter((f) => !ref.includes(f))) problems.push(`${label}/${f}: written by the conformance run only`);
  for (const f of conf.filter((f) => ref.includes(f))) {
    if (PRESENCE_ONLY.includes(path.basename(f))) continue;
    const a = fs.readFileSync(path.join(confDir, f));
    const b = fs.readFileSync(path.join(refDir, f));
    const volatile = f.split(path.sep).includes('steps') ? journalVolatile(f) : VOLATILE_KEYS[path.basename(f)];
    if (volatile && !BYTE_EXACT.includes(path.basename(f))) {
      const ja = strip(JSON.parse(a.toString('utf8')), volatile);
      const jb = strip(JSON.parse(b.toString('utf8')), volatile);
      compared.json.push(`${label}/${f}`);
      check(isDeepStrictEqual(ja, jb), `${label}/${f} differs (ignoring ${volatile.join(', ')}): ${firstDifference(JSON.stringify(ja, null, 1), JSON.stringify(jb, null, 1))}`);
    } else {
      compared.exact.push(`${label}/${f}`);
      check(a.equals(b), `${label}/${f} differs: ${firstDifference(a.toString('utf8'), b.toString('utf8'))}`);
    }
  }
}
const newsletterRel = path.join(client, yyyy, mm, dd);
const confNewsletter = path.join(opt.newsletters, newsletterRel);
const refNewsletter = path.join(opt['ref-store'], 'newsletters', newsletterRel);
for (const f of BYTE_EXACT) check(fs.existsSync(path.join(confNewsletter, f)), `the conformance run wrote no ${path.join(confNewsletter, f)}`);
// The receipt (SES) and the preview (eml) are each one engine's; they are checked above.
compareTrees('newsletters', confNewsletter, refNewsletter, {
  skip: (f) => ['delivery.json', 'newsletter.eml'].includes(path.basename(f)),
});
compareTrees('data', opt.data, opt['ref-store'], {
  // The reference store holds the newsletters too (compared above).
  skip: (f) => f.startsWith(`newsletters${path.sep}`),
});

// ---------------------------------------------------------------------------------------------
// Summary.

const fmt = (m) => [...m].map(([k, v]) => `${k}×${v}`).join(', ');
console.log('== conformance: aws-local-stepfunctions + cargo lambda watch vs vectora run');
console.log(`states visited:   ${fmt(visited)}`);
console.log(`invocations:      ${invocations.length} (${fmt(count(invocations, (i) => `${i.fn}:${i.ok ? 'ok' : i.error}`))})`);
console.log(`task failures:    ${failures.length ? fmt(count(failures, (f) => `${f.state}[${f.key}]:${f.error}`)) : 'none'}`);
console.log(`retries:          ${retries.length ? fmt(count(retries, (r) => `${r.state}[${r.key}]`)) : 'none'}`);
console.log(`Map concurrency:  ${concurrencyReport.join('; ')}`);
console.log(`control flow:     retries and catches per state and Map index ${isDeepStrictEqual(jsRetries, refRetries) && isDeepStrictEqual(jsCatches, refCatches) ? 'identical in both engines' : 'DIFFER between the engines'} (${Object.values(jsRetries).reduce((a, b) => a + b, 0)} retries, ${Object.values(jsCatches).reduce((a, b) => a + b, 0)} catches)`);
console.log(`catches:          ${catches.length ? catches.map((c) => `${c.state}[${c.key}] → ${c.next}`).join(', ') : 'none'}`);
console.log(`fake Bedrock:     ${Object.entries(perSection(fakeConformance.stats)).map(([t, s]) => `"${t}" ${s.requests} requests (${s.throttled} throttled)`).join('; ') || 'no request'}`);
if (fakeCloudWatch) console.log(`metrics:          ${fakeCloudWatch.calls.map((c) => `${c.operation} ${c.namespace}: ${Object.entries(c.metrics).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('; ') || 'none published'}`);
console.log(`execution output: ${JSON.stringify(output ?? null)}`);
console.log(`reference:        vectora run exit ${reference.code} in ${(reference.ms / 1000).toFixed(1)} s; conformance execution ${(conformanceMs / 1000).toFixed(1)} s`);
const journal = compared.json.filter((f) => f.includes('/steps/'));
console.log(`files compared:   ${compared.exact.length} byte-for-byte (${compared.exact.filter((f) => f.startsWith('newsletters/')).join(', ')}, + ${compared.exact.filter((f) => !f.startsWith('newsletters/')).length} data-store files); ${compared.json.length} as JSON without wall-clock fields: ${compared.json.filter((f) => !f.includes('/steps/')).join(', ')} and ${journal.length} step records (input digests equal for ${journal.length - journalInputsWithClock.length}; not compared for ${journalInputsWithClock.join(', ') || 'none'}, whose inputs carry durations or the start time)`);
console.log(`logs:             ${outDir} (kept if the job fails)`);
if (problems.length) {
  console.log(`RESULT: FAIL (${problems.length} problem${problems.length > 1 ? 's' : ''})`);
  for (const p of problems) console.log(`  - ${p}`);
  process.exit(1);
}
console.log('RESULT: OK — both engines produced the same newsletter');
