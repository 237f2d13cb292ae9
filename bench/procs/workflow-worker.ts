/**
 * Scenario w: the example worker (`startWorkerHost`: Postgres runs and cursors, BullMQ run queue,
 * sdk-dispatch's continuation runner with Redis push) in its own process, on a random schema. Runs
 * are inserted first (`create`), then enqueued together (`go`), so the parent can meter CPU around
 * exactly the work of the runs. The end of a run is seen in the worker's own `run succeeded` log line
 * (no polling query that would add Postgres work). Every query a pg client sends is counted.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@vespid/protocol';
import { bootstrapOrganization } from '../../examples/api/src/index.js';
import { createPool, dropSchema, migrate, type Pool } from '../../examples/db/src/index.js';
import { startWorkerHost, type WorkerHost } from '../../examples/worker/src/index.js';
import { insertRun } from '../../examples/worker/test/test-support.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';

// The pg module the example hosts load: its Client is where every round trip goes through.
const pg = createRequire(new URL('../../examples/db/package.json', import.meta.url))('pg') as {
  Client: { prototype: { query: (...a: unknown[]) => unknown } };
};
let queries = 0;
/** Queries by their first words (which statement), for the scenario's details. */
let byStatement: Record<string, number> = {};
const query = pg.Client.prototype.query;
/** When tracing (`timeline` command): [monotonic ms, label] of every query's send and answer, and runner events. */
let timeline: [number, string][] | null = null;
pg.Client.prototype.query = function (this: unknown, ...a: unknown[]) {
  queries++;
  const text = typeof a[0] === 'string' ? a[0] : ((a[0] as { text?: string } | undefined)?.text ?? '?');
  const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
  byStatement[key] = (byStatement[key] ?? 0) + 1;
  if (!timeline) return query.apply(this, a);
  const label = key.replace(/"[a-z0-9_]+"\./g, '').slice(0, 40);
  const tl = timeline;
  tl.push([nowMs(), `pg> ${label}`]);
  const cb = a[a.length - 1];
  if (typeof cb === 'function') {
    a[a.length - 1] = (...r: unknown[]) => {
      tl.push([nowMs(), `pg< ${label}`]);
      return (cb as (...x: unknown[]) => unknown)(...r);
    };
    return query.apply(this, a);
  }
  const out = query.apply(this, a) as Promise<unknown> | undefined;
  void out?.then?.(
    () => tl.push([nowMs(), `pg< ${label}`]),
    () => undefined,
  );
  return out;
};

let pool: Pool | undefined;
let host: WorkerHost | undefined;
let schema = '';
let orgId = '';
const appName = `bench-w-${randomBytes(4).toString('hex')}`;
const ended = new Map<string, { at: number; status: string }>();
const waiters = new Map<string, () => void>();
let created: string[] = [];
let sequential = false;

const logger: Logger = {
  debug() {},
  info(obj, msg) {
    const runId = (obj as { runId?: string }).runId;
    if (runId && (msg === 'run succeeded' || msg === 'run failed')) {
      ended.set(runId, { at: nowMs(), status: msg.slice(4) });
      waiters.get(runId)?.();
    }
  },
  warn(obj, msg) {
    if (process.env.BENCH_DEBUG) process.stderr.write(`worker warn: ${msg} ${JSON.stringify(obj)}\n`);
  },
  error(obj, msg) {
    process.stderr.write(`worker error: ${msg} ${JSON.stringify(obj)}\n`);
  },
};

/**
 * A run that did not end in time: its row and last events on stderr, so the failure names where the
 * run stopped (a node never dispatched, a result never applied, a run job never picked up).
 */
async function reportUnfinished(ids: string[]): Promise<void> {
  if (!pool) return;
  for (const id of ids.slice(0, 3)) {
    const run = await pool.query(
      `SELECT status, cursor_node_index, attempt, blocked_request_id, updated_at FROM ${schema}.workflow_runs WHERE id = $1`,
      [id],
    );
    const events = await pool.query(
      `SELECT seq, type, node_id, created_at FROM ${schema}.workflow_run_events WHERE run_id = $1 ORDER BY seq DESC LIMIT 4`,
      [id],
    );
    process.stderr.write(
      `worker: run ${id} did not end: ${JSON.stringify({ run: run.rows[0], lastEvents: events.rows, now: new Date() })}\n`,
    );
  }
}

serve({
  /** Creates the schema and an organization; returns its id (the gateway's agents join it). */
  async prepare(args) {
    schema = `bench_w_${randomBytes(4).toString('hex')}`;
    pool = createPool(str(args, 'databaseUrl'), { schema, applicationName: appName, max: 10 });
    await migrate(pool, { schema });
    orgId = (await bootstrapOrganization(pool, { orgName: 'bench', email: `${schema}@bench.test` })).orgId;
    return { orgId, appName };
  },
  async startHost(args) {
    if (!pool) throw new Error('prepare first');
    const prefix = str(args, 'prefix');
    host = await startWorkerHost({
      pool,
      logger,
      bullPrefix: `${prefix}:bull`,
      resultChannel: `${prefix}:results`,
      env: {
        DATABASE_SCHEMA: schema,
        REDIS_URL: str(args, 'redisUrl'),
        GATEWAY_HTTP_URL: str(args, 'httpUrl'),
        GATEWAY_SERVICE_TOKEN: str(args, 'serviceToken'),
        WORKFLOW_HTTP_ALLOWLIST: '127.0.0.1',
      },
    });
    // Variant `sequential` (BENCH_W_AB): the runner sends only after the cursor's insert committed, as before issue 23's third round.
    const runner = host.runner;
    if (runner) {
      const block = runner.block.bind(runner);
      runner.block = (input) => block(sequential ? { ...input, dispatchBeforeCommit: false } : input);
    }
    host.runner?.on('dispatched', () => void timeline?.push([nowMs(), 'runner: dispatched (gateway answered)']));
    host.runner?.on('applied', () => void timeline?.push([nowMs(), 'runner: applied']));
    return true;
  },
  /** Selects the variant of remote nodes measured next (see `startHost`). */
  variant(args) {
    sequential = args.sequential === true;
    return true;
  },
  /** Starts (on: true) or stops a timeline; returns what was recorded. */
  timeline(args) {
    const out = timeline ?? [];
    timeline = args.on === true ? [] : null;
    return out;
  },
  /** Backend pids of this worker's Postgres connections (their CPU is read by the parent from /proc). */
  async backends() {
    if (!pool) return [];
    const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName]);
    return rows.map((r) => r.pid);
  },
  /** Inserts `runs` runs of a workflow of `nodes` http nodes in `mode`. */
  async create(args) {
    if (!pool) throw new Error('prepare first');
    const mode = str(args, 'mode', 'node');
    const target = str(args, 'targetUrl');
    const nodes = Array.from({ length: num(args, 'nodes', 1) }, (_, i) => ({
      id: `n${i}`,
      type: 'connector.action',
      config: { connectorId: 'http', actionId: 'request', input: { method: 'GET', url: `${target}/${i}` }, execution: { mode } },
    }));
    created = [];
    for (let r = 0; r < num(args, 'runs', 1); r++) created.push(await insertRun(pool, orgId, nodes));
    return created.length;
  },
  /** Enqueues the created runs at once and waits for all of them; wall time from the first enqueue to the last end. */
  async go(args) {
    if (!host) throw new Error('startHost first');
    const ids = created;
    const waitMs = num(args, 'waitMs', 60_000);
    const q0 = queries;
    byStatement = {};
    const done = Promise.all(
      ids.map(
        (id) =>
          new Promise<void>((resolve) => {
            if (ended.has(id)) return resolve();
            waiters.set(id, resolve);
          }),
      ),
    );
    const t0 = nowMs();
    await Promise.all(ids.map((runId) => host!.runQueue.enqueue({ runId, organizationId: orgId })));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      done.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) await reportUnfinished(ids.filter((id) => !ended.has(id)));
    const ends = ids.map((id) => ended.get(id));
    const last = Math.max(...ends.map((e) => e?.at ?? Number.NaN));
    const out = {
      finished,
      wallMs: finished ? last - t0 : Number.NaN,
      runs: ids.length,
      failed: ends.filter((e) => e?.status !== 'succeeded').length,
      queries: queries - q0,
      byStatement,
    };
    for (const id of ids) waiters.delete(id);
    return out;
  },
  async stop() {
    await host?.close({ timeoutMs: 3000 }).catch(() => {});
    if (pool && schema) await dropSchema(pool, schema).catch(() => {});
    await pool?.end().catch(() => {});
    setImmediate(() => process.exit(0));
    return true;
  },
});
