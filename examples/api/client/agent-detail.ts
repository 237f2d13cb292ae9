/**
 * The agent detail view (`#/agents/<id>`): identity, version, host, connection, pause/resume, the jobs
 * it runs now (each linking to its run) and its job history with durations, paged by cursor. The
 * skeleton is built once; refreshes only replace text and table bodies, so keyboard focus on the
 * buttons survives the periodic refresh.
 */
import { formatDuration } from '../src/web/lib/duration.js';
import { listText, relativeTime } from '../src/web/lib/format.js';
import type { AgentDetail, AgentJob } from './api.js';
import { byId, h } from './dom.js';

export interface AgentDetailActions {
  /** Pauses or resumes; resolves when done (the view refreshes itself afterwards). */
  setPaused(agent: AgentDetail, paused: boolean): Promise<void>;
  /** Loads the next page of the job history. */
  moreJobs(cursor: string): Promise<void>;
}

const FIELDS = [
  ['id', 'Agent ID'],
  ['version', 'Version'],
  ['host', 'Hostname'],
  ['os', 'OS / arch'],
  ['address', 'Address seen by the gateway'],
  ['since', 'Connected since'],
  ['lastSeen', 'Last seen'],
  ['tags', 'Tags'],
  ['kinds', 'Kinds'],
  ['load', 'In flight / max'],
  ['paused', 'Paused'],
] as const;

const runLink = (runId: string | null, text: string) =>
  runId ? h('a', { href: `#/runs/${runId}`, 'aria-label': `Run ${runId}` }, text) : document.createTextNode(text);

function cell(label: string, ...content: Array<Node | string>): HTMLTableCellElement {
  const td = h('td', {}, ...content);
  td.dataset.label = label;
  return td;
}

export function createAgentDetail(actions: AgentDetailActions) {
  const root = byId('agent-view');
  const title = byId('agent-title');
  const badges = byId('agent-badges');
  const pauseButton = byId<HTMLButtonElement>('agent-pause');
  const facts = byId('agent-facts');
  const current = byId<HTMLTableSectionElement>('agent-current-body');
  const currentEmpty = byId('agent-current-empty');
  const history = byId<HTMLTableSectionElement>('agent-history-body');
  const historyEmpty = byId('agent-history-empty');
  const more = byId<HTMLButtonElement>('agent-history-more');
  const values = new Map<string, HTMLElement>();
  for (const [key, label] of FIELDS) {
    const dd = h('dd');
    values.set(key, dd);
    facts.append(h('div', {}, h('dt', {}, label), dd));
  }
  let agent: AgentDetail | null = null;
  let nextCursor: string | null = null;
  let extraPages = false;

  pauseButton.addEventListener('click', async () => {
    if (!agent) return;
    pauseButton.disabled = true;
    try {
      await actions.setPaused(agent, !agent.paused);
    } finally {
      pauseButton.disabled = false;
    }
  });
  more.addEventListener('click', async () => {
    if (!nextCursor) return;
    more.disabled = true;
    try {
      extraPages = true;
      await actions.moreJobs(nextCursor);
    } finally {
      more.disabled = false;
    }
  });

  function jobRow(j: AgentJob): HTMLTableRowElement {
    const tr = h('tr', { 'data-run-id': j.runId, 'data-status': j.status });
    const time = h(
      'time',
      { datetime: j.finishedAt, title: new Date(j.finishedAt).toLocaleString() },
      relativeTime(j.finishedAt, Date.now()),
    );
    tr.append(
      cell('Finished', time),
      cell('Run', runLink(j.runId, j.runId.slice(0, 8))),
      cell('Node', `${j.nodeId}${j.attempt > 0 ? ` (attempt ${j.attempt + 1})` : ''}`),
      cell('Kind', j.kind ?? '—'),
      cell('Status', h('span', { class: `badge badge-${j.status}` }, j.status)),
      cell('Queued', formatDuration(j.queuedMs)),
      cell('Executing', formatDuration(j.executingMs)),
      cell('Total', formatDuration(j.totalMs)),
      cell('Error', j.errorCode ?? '—'),
    );
    return tr;
  }

  return {
    element: root,
    /** Shows an agent (a new id resets the history paging). */
    show(detail: AgentDetail, options: { canManage: boolean }): void {
      if (agent?.id !== detail.id) {
        extraPages = false;
        nextCursor = null;
        history.replaceChildren();
      }
      agent = detail;
      const live = detail.live;
      const now = Date.now();
      title.textContent = detail.name;
      root.dataset.agentId = detail.id;
      root.dataset.status = detail.status;
      root.dataset.paused = String(Boolean(detail.paused));
      badges.replaceChildren(
        h('span', { class: `badge badge-${detail.status}` }, detail.status),
        ...(detail.paused ? [' ', h('span', { class: 'badge badge-paused' }, 'paused')] : []),
      );
      const set = (key: string, text: string) => {
        values.get(key)!.textContent = text;
      };
      set('id', detail.id);
      set('version', live?.agentVersion ?? detail.agentVersion ?? 'unknown');
      set('host', detail.host?.hostname ?? 'not reported');
      set('os', detail.host?.os || detail.host?.arch ? `${detail.host?.os ?? '?'} / ${detail.host?.arch ?? '?'}` : 'not reported');
      set('address', live?.remoteAddress ?? (live ? 'unknown' : 'not connected'));
      set(
        'since',
        live?.connectedAt ? `${new Date(live.connectedAt).toLocaleString()} (${relativeTime(live.connectedAt, now)})` : 'not connected',
      );
      set('lastSeen', relativeTime(live?.lastSeenAt ?? detail.lastSeenAt, now));
      set('tags', listText(detail.tags));
      set('kinds', listText(live?.kinds ?? detail.capabilities.kinds));
      set('load', live ? `${live.inFlight} / ${live.maxInFlight}` : '—');
      set(
        'paused',
        detail.paused
          ? `yes, since ${detail.pausedAt ? new Date(detail.pausedAt).toLocaleString() : 'unknown'}: finishes what it runs, gets no new work`
          : 'no',
      );
      pauseButton.hidden = !options.canManage || detail.status === 'revoked';
      pauseButton.textContent = detail.paused ? 'Resume' : 'Pause';
      pauseButton.setAttribute('aria-label', `${detail.paused ? 'Resume' : 'Pause'} ${detail.name}`);
      pauseButton.classList.toggle('primary', Boolean(detail.paused));

      current.replaceChildren(
        ...detail.currentJobs.map((j) => {
          const tr = h('tr', { 'data-request-id': j.requestId });
          tr.append(
            cell('Run', runLink(j.runId, j.runId ? j.runId.slice(0, 8) : j.requestId)),
            cell('Node', j.nodeId ?? '—'),
            cell('Kind', j.kind),
            cell('Running for', j.startedAt ? formatDuration(now - Date.parse(j.startedAt)) : '—'),
            cell('Confirmed by agent', j.received ? 'yes' : 'not yet'),
          );
          return tr;
        }),
      );
      currentEmpty.hidden = detail.currentJobs.length > 0;
      currentEmpty.textContent = live === undefined ? 'No live data from the gateway.' : 'Nothing running now.';
      byId('agent-current-table').hidden = detail.currentJobs.length === 0;
    },
    /** Sets the job history: `append` adds a further page, otherwise the first page is replaced (unless more pages are open). */
    showJobs(page: { jobs: AgentJob[]; nextCursor: string | null }, append: boolean): void {
      if (!append && extraPages) return;
      if (append) history.append(...page.jobs.map(jobRow));
      else history.replaceChildren(...page.jobs.map(jobRow));
      nextCursor = page.nextCursor;
      more.hidden = !nextCursor;
      historyEmpty.hidden = history.childElementCount > 0;
      byId('agent-history-table').hidden = history.childElementCount === 0;
    },
    clear(): void {
      agent = null;
      nextCursor = null;
      extraPages = false;
      history.replaceChildren();
      current.replaceChildren();
    },
  };
}
