// The Host on the application's main thread: every request of the routes done in place,
// with the process's own services (the leak monitor, automatic capture, the actions, the
// registered workers). Mounted routes call it directly; the endpoint's thread reaches it
// through host-rpc.ts.
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { ActionRunner } from '../actions/runner.js';
import { auditParams, parseActionParams } from '../actions/definitions.js';
import { auditTime, type AuditEvent, type AuditSink, type Caller } from '../audit.js';
import type { Capture } from '../diagnostics/capture.js';
import { describeFsError } from '../diagnostics/capture-store.js';
import { estimateForHeap, estimateSnapshot, writeSnapshotInto } from '../diagnostics/heap-snapshot.js';
import type { LeakMonitor } from '../diagnostics/leak-monitor.js';
import { readMemoryLimit } from '../diagnostics/memory-limit.js';
import { Profiler } from '../diagnostics/profiler.js';
import { diagnosticReport } from '../diagnostics/report.js';
import { heapStatistics, type WorkerRegistry } from '../diagnostics/workers.js';
import type { ResolvedOptions } from '../options.js';
import type { MemoryResponse } from '../protocol/index.js';
import { evaluateOnce } from '../repl/evaluate-once.js';
import { loadRepl, replUnavailableReason } from '../repl/load.js';
import { promptFor } from '../repl/prompt.js';
import { startSession } from '../repl/session.js';
import type { MainThreadState } from '../thread/main-thread-state.js';
import type { RuntimeMetrics } from '../diagnostics/runtime-metrics.js';
import type { ActionRun, Evaluation, Host, MainMetrics, ReplSessionRequest, SnapshotPlan, SnapshotWrite, StoredCaptureFile } from './host.js';

export interface LocalHostServices {
  options: ResolvedOptions;
  leakMonitor: LeakMonitor | null;
  capture: Capture | null;
  actions: ActionRunner | null;
  workers: WorkerRegistry;
  /** Where the main thread says it is writing a heap snapshot (read by the endpoint's thread). */
  mainThread: MainThreadState;
  /** For the events written on a route's behalf: REPL lines, errors raised after an answer. */
  audit: AuditSink | null;
  /** GC pauses, the event loop's delay and the heavy operations' counts, for GET /metrics. */
  metrics: RuntimeMetrics;
}

export class LocalHost implements Host {
  readonly #services: LocalHostServices;
  readonly #profiles = new Map<number, Profiler>();
  #nextProfile = 1;

  constructor(services: LocalHostServices) {
    this.#services = services;
  }

  async memory(): Promise<MemoryResponse> {
    const heap = getHeapStatistics();
    return {
      process: process.memoryUsage(),
      heap: {
        totalHeapSize: heap.total_heap_size,
        usedHeapSize: heap.used_heap_size,
        heapSizeLimit: heap.heap_size_limit,
        mallocedMemory: heap.malloced_memory,
        externalMemory: heap.external_memory,
        numberOfNativeContexts: heap.number_of_native_contexts,
        numberOfDetachedContexts: heap.number_of_detached_contexts,
      },
      heapSpaces: getHeapSpaceStatistics().map((space) => ({
        name: space.space_name,
        sizeBytes: space.space_size,
        usedBytes: space.space_used_size,
        availableBytes: space.space_available_size,
      })),
      limit: readMemoryLimit(this.#services.options.memoryLimitBytes),
    };
  }

  async metrics(): Promise<MainMetrics> {
    const { options, leakMonitor, capture, metrics } = this.#services;
    const heap = getHeapStatistics();
    let residentBytes = Number.NaN;
    try {
      residentBytes = process.memoryUsage.rss();
    } catch {
      // out of file descriptors: the figure is unknown this time
    }
    let afterGc: MainMetrics['afterGc'] = null;
    let leak: MainMetrics['leak'] = null;
    if (leakMonitor !== null) {
      const { verdict, samples } = leakMonitor.status();
      const newest = samples.at(-1);
      if (newest !== undefined) afterGc = { heapUsedBytes: newest.heapUsed, externalBytes: newest.external };
      const series = (name: 'heapUsed' | 'external') => {
        const evidence = verdict.series[name];
        return { level: evidence.level, growthBytesPerSecond: evidence.slopeBytesPerHour === null ? null : evidence.slopeBytesPerHour / 3600 };
      };
      leak = { heapUsed: series('heapUsed'), external: series('external') };
    }
    return {
      residentBytes,
      heapUsedBytes: heap.used_heap_size,
      heapSizeLimitBytes: heap.heap_size_limit,
      memoryLimit: readMemoryLimit(options.memoryLimitBytes),
      afterGc,
      leak,
      eventLoopDelay: metrics.eventLoopDelay(),
      gc: metrics.gc,
      heapSnapshots: metrics.heapSnapshots,
      profiles: metrics.profiles,
      captures: capture?.outcomes ?? null,
    };
  }

  async report(): Promise<Uint8Array> {
    return utf8(JSON.stringify(diagnosticReport()));
  }

  workers() {
    return this.#services.workers.describe();
  }

  async workerNames() {
    return this.#services.workers.names();
  }

  async snapshotPlan(name: string | null): Promise<SnapshotPlan> {
    const { options, workers } = this.#services;
    const { memoryFactor } = options.heapSnapshot;
    const limit = readMemoryLimit(options.memoryLimitBytes);
    if (name === null) return { kind: 'ok', estimate: estimateSnapshot(memoryFactor), limit, basis: 'main-thread' };
    const worker = workers.get(name);
    if (worker === undefined) return { kind: 'unknown-worker' };
    const stats = await heapStatistics(worker);
    // The worker's spaces are unknown: all of its heap counts as small objects (the safe side).
    if (stats instanceof Error) return { kind: 'ok', estimate: estimateSnapshot(memoryFactor), limit, basis: 'main-thread' };
    return { kind: 'ok', estimate: estimateForHeap(stats.usedHeapSize, 0, memoryFactor), limit, basis: 'worker' };
  }

  async writeSnapshot(dir: string, name: string, workerName: string | null): Promise<SnapshotWrite> {
    const path = join(dir, name);
    try {
      if (workerName === null) {
        const { mainThread, options } = this.#services;
        mainThread.snapshotStarting(estimateSnapshot(options.heapSnapshot.memoryFactor).pauseMs);
        try {
          const written = writeSnapshotInto(path);
          this.#services.metrics.heapSnapshots.count++;
          this.#services.metrics.heapSnapshots.pauseSeconds += written.pauseMs / 1000;
          return { kind: 'written', ...written };
        } finally {
          mainThread.snapshotEnded();
        }
      }
      const worker = this.#services.workers.get(workerName);
      if (worker === undefined) return { kind: 'failed', errno: null, message: `the worker thread "${workerName}" stopped before its snapshot was taken` };
      const started = performance.now();
      // The worker's own event loop pauses while V8 writes it; the main thread's goes on.
      // A new file, as V8 makes the main thread's (growing-file.ts says why).
      await pipeline(await worker.getHeapSnapshot(), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      return { kind: 'written', path, bytes: (await stat(path)).size, pauseMs: Math.round(performance.now() - started) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? null;
      const message =
        code === 'ERR_WORKER_NOT_RUNNING'
          ? `the worker thread "${workerName}" stopped before its snapshot was taken`
          : `writing the heap snapshot into ${dir} failed (${describeFsError(error)})`;
      return { kind: 'failed', errno: code, message };
    }
  }

  async leakStatus(gc: boolean) {
    return this.#leaks().status(gc);
  }

  watchLeaks(onEvent: Parameters<Host['watchLeaks']>[0], signal: AbortSignal): Promise<void> {
    const unsubscribe = this.#leaks().subscribe(onEvent);
    return new Promise((resolve) => {
      const stop = () => {
        unsubscribe();
        resolve();
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }

  async replUnavailable(): Promise<string | null> {
    return replUnavailableReason();
  }

  async runRepl(stream: Duplex, request: ReplSessionRequest, signal: AbortSignal): Promise<{ lines: number }> {
    const repl = this.#repl();
    const runtime = await loadRepl();
    let lines = 0;
    const audit = (detail: Record<string, unknown>, durationMs = 0) => this.#audit(request.caller, 'repl', 101, durationMs, detail);
    const ended = new Promise<{ lines: number }>((resolve) => stream.once('close', () => resolve({ lines })));
    startSession(runtime, stream, {
      prompt: promptFor(this.#services.options.app.name),
      terminal: request.terminal,
      columns: request.columns,
      rows: request.rows,
      context: repl.context,
      evalTimeoutMs: repl.evalTimeoutMs,
      idleTimeoutMs: repl.idleTimeoutMs,
      signal,
      onEvaluated: ({ code, outcome, durationMs }) => {
        lines++;
        audit({ code: clipCode(code), outcome }, durationMs);
      },
      onCompletionProbe: (code) => audit({ code: clipCode(code), outcome: 'completion-probe' }),
      onUncaught: (error, sessionOpen) => audit({ outcome: 'uncaught', error: describe(error), sessionOpen }),
    });
    return ended;
  }

  async evaluate(code: string, timeoutMs: number, caller: Caller): Promise<Evaluation> {
    const repl = this.#repl();
    const runtime = await loadRepl();
    return evaluateOnce(runtime, code, timeoutMs, repl.context, (late) =>
      this.#audit(caller, 'repl', 200, 0, { outcome: 'uncaught', error: `${late.name}: ${late.message}`.slice(0, 2000) }),
    );
  }

  async startProfile(kind: 'cpu' | 'heap', interval: number): Promise<{ id: number } | { unavailable: string }> {
    const profiler = await Profiler.start(kind, interval);
    if (profiler instanceof Error) return { unavailable: profiler.message };
    const id = this.#nextProfile++;
    this.#profiles.set(id, profiler);
    this.#services.metrics.profiles[kind]++;
    return { id };
  }

  async stopProfile(id: number): Promise<Uint8Array> {
    const profiler = this.#profiles.get(id);
    if (profiler === undefined) throw new Error(`no profile ${id} is running`);
    this.#profiles.delete(id);
    return utf8(JSON.stringify(await profiler.stop()));
  }

  async cancelProfile(id: number): Promise<void> {
    this.#profiles.get(id)?.close();
    this.#profiles.delete(id);
  }

  async actions() {
    return this.#runner().list();
  }

  async runAction(name: string, raw: unknown, caller: Caller, signal: AbortSignal): Promise<ActionRun> {
    const runner = this.#runner();
    const action = runner.get(name);
    if (action === undefined) return { kind: 'unknown' };
    // The runner holds the slot until the action itself settles (see actions/runner.ts).
    const slot = runner.reserve(action);
    if (slot === null) {
      const gate = runner.gate(name);
      return { kind: 'busy', message: gate?.busyMessage ?? `The action "${name}" is already running.`, retryAfterSeconds: gate?.retryAfterSeconds ?? 5 };
    }
    try {
      const parsed = parseActionParams(action, raw);
      if (!parsed.ok) return { kind: 'invalid', message: parsed.message, param: parsed.param };
      const params = auditParams(action, parsed.params);
      const outcome = await slot.run(parsed.params, caller.token ?? 'anonymous', signal);
      if (outcome.kind === 'ok') return { kind: 'ok', resultJson: utf8(outcome.resultJson), durationMs: outcome.durationMs, params };
      return outcome.kind === 'timeout' ? { ...outcome, timeoutMs: action.timeoutMs, params } : { ...outcome, params };
    } finally {
      slot.discard();
    }
  }

  async captureStatus() {
    return (await this.#services.capture?.status()) ?? null;
  }

  async captures() {
    const capture = this.#capture();
    const snapshots = await capture.store.list();
    return { snapshots, capture: await capture.status(snapshots) };
  }

  async findCapture(id: string): Promise<StoredCaptureFile | null> {
    return this.#capture().find(id);
  }

  async removeCapture(id: string) {
    return this.#capture().remove(id);
  }

  /** Ends what runs for a caller that is gone (the endpoint's thread stopped): profiles in progress. */
  close(): void {
    for (const profiler of this.#profiles.values()) profiler.close();
    this.#profiles.clear();
  }

  #audit(caller: Caller, kind: AuditEvent['kind'], status: number, durationMs: number, detail: Record<string, unknown>): void {
    this.#services.audit?.({
      time: auditTime(),
      kind,
      token: caller.token,
      address: caller.address,
      method: caller.method,
      path: caller.path,
      route: caller.route,
      status,
      durationMs,
      detail,
    });
  }

  // The routes ask only for what the application enabled; these say so if not.
  #leaks(): LeakMonitor {
    return this.#services.leakMonitor ?? disabled('leak detection');
  }

  #repl(): NonNullable<ResolvedOptions['repl']> {
    return this.#services.options.repl ?? disabled('the REPL');
  }

  #runner(): ActionRunner {
    return this.#services.actions ?? disabled('actions');
  }

  #capture(): Capture {
    return this.#services.capture ?? disabled('automatic capture');
  }
}

/** Code as audited: without its final newline, cut at 2000 characters. */
function clipCode(code: string): string {
  return code.length > 2000 ? `${code.slice(0, 2000)}…` : code.replace(/\n$/, '');
}

function disabled(feature: string): never {
  throw Object.assign(new Error(`The application has not enabled ${feature} in its endpoint options.`), { code: 'FEATURE_DISABLED' });
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') {
    return `${typeof (error as Error).name === 'string' ? (error as Error).name : 'Error'}: ${(error as Error).message}`.slice(0, 2000);
  }
  return String(error).slice(0, 2000);
}

const encoder = new TextEncoder();

/** Text as bytes in an ArrayBuffer of their own (exactly their size), which can move to another thread. */
function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
