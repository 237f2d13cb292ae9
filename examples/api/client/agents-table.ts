/**
 * The agents table. Rows are keyed by agent id and updated in place on every refresh, so keyboard
 * focus and an open tag editor survive the periodic refresh.
 */
import { listText, parseTagsInput, relativeTime } from '../src/web/lib/format.js';
import type { AgentView } from './api.js';
import { byId, h } from './dom.js';

export interface TableActions {
  /** Saves tags; resolves true when saved (the editor closes), false to keep editing. */
  saveTags(agent: AgentView, tags: string[]): Promise<boolean>;
  revoke(agent: AgentView): void;
}

interface Row {
  tr: HTMLTableRowElement;
  agent: AgentView;
  editing: boolean;
  tagsText: HTMLSpanElement;
  editButton: HTMLButtonElement;
  revokeButton: HTMLButtonElement;
  cells: Record<
    'name' | 'version' | 'status' | 'lastSeen' | 'tags' | 'reported' | 'kinds' | 'connectors' | 'max' | 'inFlight' | 'actions',
    HTMLElement
  >;
}

const LABELS = {
  name: 'Name',
  version: 'Version',
  status: 'Status',
  lastSeen: 'Last seen',
  tags: 'Tags',
  reported: 'Reported tags',
  kinds: 'Kinds',
  connectors: 'Connectors',
  max: 'Max in flight',
  inFlight: 'In flight now',
  actions: 'Actions',
} as const;

/** What the agent reported in its last hello: version, and where it runs (tooltip). */
function versionOf(a: AgentView): { version: string; host: string } {
  const caps = a.capabilities as { agentVersion?: unknown; host?: { os?: string; arch?: string; hostname?: string; nodeVersion?: string } };
  const own = (a as { agentVersion?: unknown }).agentVersion;
  const version = typeof own === 'string' ? own : typeof caps.agentVersion === 'string' ? caps.agentVersion : '';
  const host = caps.host
    ? [caps.host.hostname, `${caps.host.os ?? '?'}/${caps.host.arch ?? '?'}`, caps.host.nodeVersion ? `Node ${caps.host.nodeVersion}` : '']
        .filter(Boolean)
        .join(' · ')
    : '';
  return { version, host };
}

/** The page markup predates the version column: add its header once, right after Name. */
function ensureVersionHeader(): void {
  const headRow = byId('agents-table').querySelector('thead tr');
  if (!headRow || headRow.querySelector('[data-col="version"]')) return;
  headRow.children[0]?.after(h('th', { scope: 'col', 'data-col': 'version' }, LABELS.version));
}

export function createAgentsTable(actions: TableActions) {
  const body = byId<HTMLTableSectionElement>('agents-body');
  ensureVersionHeader();
  const rows = new Map<string, Row>();
  let canManage = false;
  let liveKnown = false;

  function renderTags(row: Row): void {
    if (row.editing) return;
    row.tagsText.textContent = listText(row.agent.tags);
    row.editButton.hidden = !(canManage && row.agent.status !== 'revoked');
    if (!row.cells.tags.contains(row.tagsText)) row.cells.tags.replaceChildren(row.tagsText, ' ', row.editButton);
  }

  function openEditor(row: Row): void {
    row.editing = true;
    const inputId = `tags-${row.agent.id}`;
    const input = h('input', { id: inputId, type: 'text', value: row.agent.tags.join(', '), spellcheck: 'false', autocomplete: 'off' });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h(
      'form',
      { class: 'tag-editor', 'aria-label': `Tags of ${row.agent.name}` },
      h('label', { for: inputId }, `Tags of ${row.agent.name} (comma-separated)`),
      input,
      h('span', { class: 'actions' }, save, cancel),
    );
    const close = (focusEdit: boolean) => {
      row.editing = false;
      renderTags(row);
      if (focusEdit) row.editButton.focus();
    };
    cancel.addEventListener('click', () => close(true));
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        close(true);
      }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        if (await actions.saveTags(row.agent, parseTagsInput(input.value))) close(true);
      } finally {
        save.disabled = false;
      }
    });
    row.cells.tags.replaceChildren(form);
    input.focus();
    input.select();
  }

  function createRow(agent: AgentView): Row {
    const cells = {} as Row['cells'];
    const tr = h('tr', { 'data-agent-id': agent.id });
    for (const key of Object.keys(LABELS) as Array<keyof typeof LABELS>) {
      const cell = key === 'name' ? h('th', { scope: 'row', tabindex: '-1' }) : h('td');
      cell.dataset.label = LABELS[key];
      cell.className = `col-${key}`;
      cells[key] = cell;
      tr.append(cell);
    }
    // Buttons are created once and only shown/hidden, so a refresh never steals keyboard focus.
    const row: Row = {
      tr,
      agent,
      editing: false,
      cells,
      tagsText: h('span', { class: 'tags' }),
      editButton: h('button', { type: 'button', class: 'link' }, 'Edit tags'),
      revokeButton: h('button', { type: 'button', class: 'danger' }, 'Revoke'),
    };
    row.editButton.addEventListener('click', () => openEditor(row));
    row.revokeButton.addEventListener('click', () => actions.revoke(row.agent));
    cells.actions.append(row.revokeButton);
    return row;
  }

  function fill(row: Row, now: number): void {
    const a = row.agent;
    const live = a.live;
    row.tr.dataset.status = a.status;
    row.cells.name.replaceChildren(h('a', { href: `#/agents/${a.id}` }, a.name));
    const { version, host } = versionOf(a);
    row.cells.version.textContent = version || '—';
    row.cells.version.title = host;
    row.cells.status.replaceChildren(
      h('span', { class: `badge badge-${a.status}` }, a.status),
      ...(a.paused ? [' ', h('span', { class: 'badge badge-paused' }, 'paused')] : []),
      ...(a.approval === 'pending' ? [' ', h('span', { class: 'badge badge-pending' }, 'pending approval')] : []),
    );
    updateTime(row, now);
    renderTags(row);
    row.cells.reported.textContent = listText(live?.reportedTags ?? a.reportedTags);
    row.cells.kinds.textContent = listText(live?.kinds ?? a.capabilities.kinds);
    row.cells.connectors.textContent = listText(live?.connectors ?? a.capabilities.connectors);
    const max = live?.maxInFlight ?? a.capabilities.maxInFlight ?? a.maxInFlight;
    row.cells.max.textContent = max == null ? '—' : String(max);
    // live: the gateway's count; null: the gateway answered but holds no session for this agent;
    // undefined: no live data at all (the api has no gateway configured, or it did not answer).
    row.cells.inFlight.textContent = live ? String(live.inFlight) : liveKnown ? '—' : 'n/a';
    row.cells.inFlight.title = live ? '' : liveKnown ? 'No live session on the gateway' : 'No live data from the gateway';
    row.editButton.setAttribute('aria-label', `Edit tags of ${a.name}`);
    row.revokeButton.setAttribute('aria-label', `Revoke ${a.name}`);
    row.revokeButton.hidden = !(canManage && a.status !== 'revoked');
  }

  function updateTime(row: Row, now: number): void {
    const iso = row.agent.live?.lastSeenAt ?? row.agent.lastSeenAt;
    const time = h('time', iso ? { datetime: iso, title: new Date(iso).toLocaleString() } : {}, relativeTime(iso, now));
    row.cells.lastSeen.replaceChildren(time);
  }

  return {
    /** Replaces the data; rows keep their elements (and focus) across refreshes. */
    update(agents: AgentView[], options: { canManage: boolean; liveKnown: boolean }): void {
      const manageChanged = canManage !== options.canManage;
      canManage = options.canManage;
      liveKnown = options.liveKnown;
      const now = Date.now();
      const seen = new Set<string>();
      let previous: HTMLTableRowElement | null = null;
      for (const agent of agents) {
        seen.add(agent.id);
        let row = rows.get(agent.id);
        if (!row) {
          row = createRow(agent);
          rows.set(agent.id, row);
        }
        const changed = manageChanged || JSON.stringify(row.agent) !== JSON.stringify(agent) || !row.tr.isConnected;
        row.agent = agent;
        if (changed) fill(row, now);
        else updateTime(row, now);
        const expected: ChildNode | null = previous ? previous.nextSibling : body.firstChild;
        if (expected !== row.tr) body.insertBefore(row.tr, expected);
        previous = row.tr;
      }
      for (const [id, row] of rows) {
        if (!seen.has(id)) {
          row.tr.remove();
          rows.delete(id);
        }
      }
      byId('empty').hidden = agents.length > 0;
      byId('agents-table').hidden = agents.length === 0;
    },
    /** Re-renders the relative times only (called every second). */
    tick(): void {
      const now = Date.now();
      for (const row of rows.values()) updateTime(row, now);
    },
    clear(): void {
      rows.clear();
      body.replaceChildren();
    },
  };
}
