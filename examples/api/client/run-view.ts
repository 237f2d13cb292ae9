/**
 * The run view (`#/runs/<id>`): the run's status and each node with its status, the agent that ran it
 * (linking to the agent's view), attempts and durations (queued, executing, total).
 */
import { formatDuration } from '../src/web/lib/duration.js';
import type { RunDetail } from './api.js';
import { byId, h } from './dom.js';

function cell(label: string, ...content: Array<Node | string>): HTMLTableCellElement {
  const td = h('td', {}, ...content);
  td.dataset.label = label;
  return td;
}

export function createRunView() {
  const root = byId('run-view');
  const body = byId<HTMLTableSectionElement>('run-nodes-body');
  return {
    element: root,
    show(run: RunDetail): void {
      root.dataset.runId = run.id;
      root.dataset.status = run.status;
      byId('run-title').textContent = `Run ${run.id.slice(0, 8)}`;
      byId('run-badges').replaceChildren(h('span', { class: `badge badge-${run.status}` }, run.status));
      const err = run.error as { code?: string; message?: string } | null;
      byId('run-summary').textContent =
        `Workflow version ${run.version}; started ${new Date(run.createdAt).toLocaleString()}` +
        (run.finishedAt ? `, finished ${new Date(run.finishedAt).toLocaleString()}` : '') +
        (err?.code ? `. Failed with ${err.code}: ${err.message ?? ''}` : '.');
      body.replaceChildren(
        ...run.nodes.map((n) => {
          const th = h('th', { scope: 'row' }, n.id);
          th.dataset.label = 'Node';
          const tr = h('tr', { 'data-node-id': n.id, 'data-status': n.status });
          const agent = n.agent
            ? h('a', { href: `#/agents/${n.agent.id}`, 'aria-label': `Agent ${n.agent.name ?? n.agent.id}` }, n.agent.name ?? n.agent.id)
            : document.createTextNode(n.status === 'queued' ? 'waiting for an agent' : '—');
          tr.append(
            th,
            cell('Type', n.type),
            cell('Status', h('span', { class: `badge badge-${n.status}` }, n.status)),
            cell('Agent', agent),
            cell('Attempts', String(n.attempts)),
            cell('Queued', formatDuration(n.durations?.queuedMs)),
            cell('Executing', formatDuration(n.durations?.executingMs)),
            cell('Total', formatDuration(n.durations?.totalMs)),
            cell('Error', n.error ? `${n.error.code}: ${n.error.message}` : '—'),
          );
          return tr;
        }),
      );
    },
  };
}
