import { describe, expect, it } from 'vitest';
import { CONTROL_CHANNEL, type ControlEvent, inProcessControlBus, redisControlBus } from './control-bus.js';
import { type RunJob, inProcessRunQueue } from './run-queue.js';
import { waitFor } from '../../../test/support/wait-for.js';

describe('control bus', () => {
  it('publishes JSON events on vespid:control', async () => {
    const sent: [string, string][] = [];
    const bus = redisControlBus({
      publish: async (channel, message) => {
        sent.push([channel, message]);
        return 1;
      },
    });
    await bus.publish({ type: 'agent_tags_updated', agentId: 'a1', tags: ['east'] });
    expect(sent).toEqual([[CONTROL_CHANNEL, '{"type":"agent_tags_updated","agentId":"a1","tags":["east"]}']]);
    expect(CONTROL_CHANNEL).toBe('vespid:control');
    await expect(bus.publish({ type: 'nope', agentId: 'a1' } as unknown as ControlEvent)).rejects.toThrow();
  });

  it('delivers in-process events to every subscriber, survives a failing one, and unsubscribes', async () => {
    const bus = inProcessControlBus();
    const got: ControlEvent[] = [];
    bus.subscribe(() => {
      throw new Error('listener bug');
    });
    const off = bus.subscribe((e) => {
      got.push(e);
    });
    await bus.publish({ type: 'agent_revoked', agentId: 'a1' });
    off();
    await bus.publish({ type: 'agent_revoked', agentId: 'a2' });
    expect(got).toEqual([{ type: 'agent_revoked', agentId: 'a1' }]);
  });
});

describe('in-process run queue', () => {
  it('hands each job to the handler outside the caller, and reports handler errors', async () => {
    const jobs: RunJob[] = [];
    const errors: unknown[] = [];
    const queue = inProcessRunQueue(
      (job) => {
        jobs.push(job);
        if (job.runId === 'bad') throw new Error('boom');
      },
      (err) => errors.push(err),
    );
    await queue.enqueue({ runId: 'r1', organizationId: 'o1' });
    await queue.enqueue({ runId: 'bad', organizationId: 'o1' });
    expect(jobs).toEqual([]);
    await waitFor(() => jobs.length >= 2 && errors.length >= 1, 'both jobs handled and one error');
    expect(jobs.map((j) => j.runId)).toEqual(['r1', 'bad']);
    expect(errors).toHaveLength(1);
  });
});
