/**
 * The agent detail view (`#/agents/<id>`): identity, version, host, connection, approve/reject (an
 * agent pending manual approval), pause/resume, the jobs it runs now (each linking to its run), its
 * job history with durations, paged by cursor, and its audit log (owners and admins). The
 * skeleton is built once; refreshes only replace text and table bodies, so keyboard focus on the
 * buttons survives the periodic refresh.
 */
import { formatDuration } from '../src/web/lib/duration.js';
import { listText, relativeTime } from '../src/web/lib/format.js';
import type { AgentDetail, AgentJob, AuditEvent } from './api.js';
import { byId, h } from './dom.js';

export interface AgentDetailActions {
  /** Pauses or resumes; resolves when done (the view refreshes itself afterwards). */
  setPaused(agent: AgentDetail, paused: boolean): Promise<void>;
  /** Approves (true) or rejects (false) an agent pending approval; the view refreshes afterwards. */
  decide(agent: AgentDetail, approve: boolean): Promise<void>;
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
  ['approval', 'Approval'],
] as const;

/** An audit event's details as one line (values are ids, names and tags: never secrets). */
function detailsText(details: Record<string, unknown>): string {
  const parts = Object.entries(details).map(([k, v]) => `${k}: ${Array.isArray(v) ? listText(v as string[]) : String(v)}`);
  return parts.length ? parts.join('; ') : '—';
}

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
  const approveButton = byId<HTMLButtonElement>('agent-approve');
  const rejectButton = byId<HTMLButtonElement>('agent-reject');
  const audit = byId<HTMLTableSectionElement>('agent-audit-body');
  const auditEmpty = byId('agent-audit-empty');
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
  for (const [button, approve] of [
    [approveButton, true],
    [rejectButton, false],
  ] as const) {
    button.addEventListener('click', async () => {
      if (!agent) return;
      approveButton.disabled = rejectButton.disabled = true;
      try {
        await actions.decide(agent, approve);
      } finally {
        approveButton.disabled = rejectButton.disabled = false;
      }
    });
  }
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
        ...(detail.approval === 'pending' ? [' ', h('span', { class: 'badge badge-pending' }, 'pending approval')] : []),
      );
      root.dataset.approval = detail.approval ?? 'approved';
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
      const pending = detail.approval === 'pending' && detail.status !== 'revoked';
      set(
        'approval',
        pending
          ? `pending: gets no work until approved; asked for tags ${listText(detail.proposedTags ?? [])}`
          : (detail.approval ?? 'approved'),
      );
      byId('agent-pending-note').hidden = !pending;
      byId('agent-pause-note').hidden = pending;
      approveButton.hidden = rejectButton.hidden = !options.canManage || !pending;
      approveButton.setAttribute('aria-label', `Approve ${detail.name}`);
      rejectButton.setAttribute('aria-label', `Reject ${detail.name}`);
      // Resuming is refused while pending (approval decides); pausing is still possible.
      pauseButton.hidden = !options.canManage || detail.status === 'revoked' || pending;
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
    /** Shows the agent's audit events; `null` when the caller may not read the log (members). */
    showAudit(events: AuditEvent[] | null): void {
      audit.replaceChildren(
        ...(events ?? []).map((e) => {
          const tr = h('tr', { 'data-audit-type': e.type });
          const actor = e.actor.type === 'user' ? (e.actor.email ?? e.actor.userId ?? 'user') : e.actor.type;
          tr.append(
            cell(
              'When',
              h('time', { datetime: e.createdAt, title: new Date(e.createdAt).toLocaleString() }, relativeTime(e.createdAt, Date.now())),
            ),
            cell('Event', e.type),
            cell('By', actor),
            cell('Address', e.clientAddress ?? '—'),
            cell('Details', detailsText(e.details)),
          );
          return tr;
        }),
      );
      auditEmpty.hidden = audit.childElementCount > 0;
      auditEmpty.textContent = events === null ? 'Only owners and admins see the audit log.' : 'No security events yet.';
      byId('agent-audit-table').hidden = audit.childElementCount === 0;
    },
    clear(): void {
      agent = null;
      nextCursor = null;
      extraPages = false;
      history.replaceChildren();
      current.replaceChildren();
      audit.replaceChildren();
    },
  };
}
