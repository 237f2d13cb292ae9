import { roundTrip } from './a-roundtrip.js';
import { throughput } from './b-throughput.js';
import { connectionScale } from './c-scale.js';
import { reserveCost } from './cap-reserve.js';
import type { BenchContext } from './context.js';
import { continuation } from './d-continuation.js';
import { sandbox } from './e-sandbox.js';
import { bullmqPeer } from './f-bullmq.js';
import { replicas } from './g-replicas.js';
import { idleAgents } from './i-idle.js';
import { queueHandOff } from './q-queue.js';
import type { Selectable } from './select.js';
import { selectionCost } from './selection.js';
import { workflowNodeCost } from './w-workflow.js';

export interface Scenario extends Selectable {
  title: string;
  run(ctx: BenchContext): Promise<void>;
  /** Overrides the runner's per-scenario time limit (i connects 30,000 agents twice). */
  timeoutMs?: number;
}

/** In run order. */
export const SCENARIOS: Scenario[] = [
  { id: 'a', title: 'dispatch round trip vs ws echo', run: roundTrip },
  { id: 'b', title: 'throughput at concurrency 64 with 1/10/100/1000 agents', run: throughput },
  { id: 'c', title: 'connection scale and restart', run: connectionScale },
  { id: 'd', title: 'continuation: push vs polling', run: continuation },
  { id: 'e', title: 'sandbox: Docker executor vs raw Engine API', run: sandbox },
  { id: 'f', title: 'peer: BullMQ job vs dispatch', run: bullmqPeer },
  { id: 'sel', title: 'selection cost alone', run: selectionCost },
  { id: 'w', title: 'workflow: remote node vs cloud node (wall, CPU per process, burst)', run: workflowNodeCost },
  { id: 'g', title: 'throughput with 1 vs 3 gateway replicas (cluster mode)', run: replicas, fullOnly: true },
  { id: 'cap', title: 'cluster reserve with 10,000 vs 10 agents at capacity (free-slot index)', run: reserveCost, fullOnly: true },
  {
    id: 'i',
    title: 'idle agents across 3 gateway replicas (cluster mode): RSS per agent, Redis load of presence refresh',
    run: idleAgents,
    fullOnly: true,
    timeoutMs: 600_000,
  },
  { id: 'q', title: 'queued dispatch: capacity freed → task assigned vs an immediate dispatch', run: queueHandOff, fullOnly: true },
];
