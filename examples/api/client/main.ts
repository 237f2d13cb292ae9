/**
 * The `/agents` page: sign in with an access token (sessionStorage only), pick the org, see the agents
 * refreshed every few seconds, create a pairing token, edit tags, revoke with a confirmation. The
 * fleet views live under the hash: `#/agents/<id>` (detail, pause/resume, jobs) and `#/runs/<id>`.
 */
import { parseRoute } from '../src/web/lib/duration.js';
import { createAgentDetail } from './agent-detail.js';
import { createAgentFilters } from './agent-filters.js';
import { createAgentsTable } from './agents-table.js';
import { ApiCallError, type AgentView, type ApiClient, type Me, createApiClient } from './api.js';
import { announce, byId, showAlert } from './dom.js';
import { createPairingPanel } from './pairing.js';
import { createRunView } from './run-view.js';
import { session } from './session.js';

/** How often the list is refreshed while the tab is visible. */
const REFRESH_MS = 3000;

interface State {
  api?: ApiClient;
  me?: Me;
  orgId?: string;
  canManage: boolean;
  /** Bumped on sign-in, sign-out and org change so a late answer for the old view is dropped. */
  generation: number;
  timer?: ReturnType<typeof setTimeout>;
  alertFromRefresh: boolean;
}
const state: State = { canManage: false, generation: 0, alertFromRefresh: false };

const errorText = (err: unknown) => (err instanceof ApiCallError ? err.message : `Unexpected error: ${(err as Error).message}`);
const isUnauthorized = (err: unknown) => err instanceof ApiCallError && err.failure.status === 401;

function actionFailed(err: unknown): void {
  if (isUnauthorized(err)) {
    signOut(errorText(err));
    return;
  }
  state.alertFromRefresh = false;
  showAlert(errorText(err));
  // The list may be out of date (an agent removed, a role changed): show the current state.
  void refresh();
}

const table = createAgentsTable({
  async saveTags(agent, tags) {
    if (!state.api || !state.orgId) return false;
    try {
      const saved = await state.api.setTags(state.orgId, agent.id, tags);
      showAlert(null);
      announce(`Tags of ${agent.name} saved: ${saved.tags.join(', ') || 'none'}.`);
      void refresh();
      return true;
    } catch (err) {
      actionFailed(err);
      return false;
    }
  },
  revoke: (agent) => confirmRevoke(agent),
});
const pairing = createPairingPanel();
const filters = createAgentFilters(() => void refresh());
const runView = createRunView();
const agentDetail = createAgentDetail({
  async setPaused(agent, paused) {
    if (!state.api || !state.orgId) return;
    try {
      const r = await state.api.setPaused(state.orgId, agent.id, paused);
      showAlert(
        r.propagated
          ? null
          : `${agent.name} is ${paused ? 'paused' : 'resumed'} in the database, but the gateways were not told at once (control bus unavailable); they apply it when the agent reconnects.`,
      );
      announce(paused ? `${agent.name} paused: it finishes what it runs and gets no new work.` : `${agent.name} resumed.`);
      await refresh();
    } catch (err) {
      actionFailed(err);
    }
  },
  async decide(agent, approve) {
    if (!state.api || !state.orgId) return;
    if (!approve && !confirm(`Reject “${agent.name}”? It is revoked: its session is closed and its token stops working.`)) return;
    try {
      const r = approve ? await state.api.approve(state.orgId, agent.id) : await state.api.reject(state.orgId, agent.id);
      showAlert(
        r.propagated
          ? null
          : `${agent.name} is ${approve ? 'approved' : 'rejected'} in the database, but the gateways were not told at once (control bus unavailable); they apply it when the agent reconnects.`,
      );
      announce(approve ? `${agent.name} approved: it gets work now.` : `${agent.name} rejected and revoked.`);
      await refresh();
    } catch (err) {
      actionFailed(err);
    }
  },
  async moreJobs(cursor) {
    const route = parseRoute(location.hash);
    if (!state.api || !state.orgId || route.view !== 'agent') return;
    try {
      agentDetail.showJobs(await state.api.jobs(state.orgId, route.id, cursor), true);
    } catch (err) {
      actionFailed(err);
    }
  },
});

/** Shows the section of the current route (only when signed in). */
function showView(): void {
  const route = parseRoute(location.hash);
  const signedIn = Boolean(state.api && state.orgId);
  byId('agents-view').hidden = !signedIn || route.view !== 'list';
  agentDetail.element.hidden = !signedIn || route.view !== 'agent';
  runView.element.hidden = !signedIn || route.view !== 'run';
}

/** Refreshes what the current route shows. */
async function load(api: ApiClient, orgId: string, generation: number): Promise<void> {
  const route = parseRoute(location.hash);
  if (route.view === 'agent') {
    // The audit log is for owners and admins only: members are not asked (it would be a 403).
    const [detail, jobs, audit] = await Promise.all([
      api.agent(orgId, route.id),
      api.jobs(orgId, route.id),
      state.canManage ? api.audit(orgId, route.id) : null,
    ]);
    if (generation !== state.generation) return;
    agentDetail.show(detail, { canManage: state.canManage });
    agentDetail.showJobs(jobs, false);
    agentDetail.showAudit(audit?.events ?? null);
    document.title = `${detail.name} · Agents · Vespid`;
    return;
  }
  if (route.view === 'run') {
    const run = await api.run(orgId, route.id);
    if (generation !== state.generation) return;
    runView.show(run);
    document.title = `Run ${run.id.slice(0, 8)} · Vespid`;
    return;
  }
  await loadList(api, orgId, generation);
  document.title = 'Agents · Vespid';
}

function confirmRevoke(agent: AgentView): void {
  const dialog = byId<HTMLDialogElement>('revoke-dialog');
  byId('revoke-text').textContent =
    `Revoke “${agent.name}”? Its live session is closed at once and its token stops working. ` +
    'This cannot be undone: the machine has to be paired again with a new pairing token.';
  dialog.returnValue = '';
  dialog.addEventListener(
    'close',
    async () => {
      if (dialog.returnValue !== 'confirm' || !state.api || !state.orgId) return;
      try {
        await state.api.revoke(state.orgId, agent.id);
        showAlert(null);
        announce(`${agent.name} revoked.`);
        await refresh();
        // The Revoke button is gone now; keep keyboard focus on the same row (or, when revoked agents
        // are filtered out and the row left, on the list's filters).
        const th = document.querySelector<HTMLElement>(`tr[data-agent-id="${CSS.escape(agent.id)}"] th`);
        if (th) th.focus();
        else byId('filter-q').focus();
      } catch (err) {
        actionFailed(err);
      }
    },
    { once: true },
  );
  dialog.showModal();
}

function schedule(generation: number): void {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    if (generation !== state.generation) return;
    // A hidden tab does not poll; visibilitychange refreshes on return.
    if (document.visibilityState === 'hidden') schedule(generation);
    else void refresh();
  }, REFRESH_MS);
}

async function refresh(): Promise<void> {
  const { api, orgId } = state;
  if (!api || !orgId) return;
  const generation = state.generation;
  clearTimeout(state.timer);
  try {
    await load(api, orgId, generation);
    if (state.alertFromRefresh) showAlert(null);
  } catch (err) {
    if (generation !== state.generation) return;
    if (isUnauthorized(err)) {
      signOut(errorText(err));
      return;
    }
    state.alertFromRefresh = true;
    const what = parseRoute(location.hash).view === 'list' ? 'the agents list' : 'this view';
    showAlert(`Could not refresh ${what}. ${errorText(err)}`);
  } finally {
    if (generation === state.generation) schedule(generation);
  }
}

async function loadList(api: ApiClient, orgId: string, generation: number): Promise<void> {
  const list = await api.agents(orgId, filters.value());
  if (generation !== state.generation) return;
  table.update(list.agents, { canManage: state.canManage, liveKnown: list.live === 'gateway' });
  const liveNote = byId('live-note');
  liveNote.hidden = list.live === 'gateway' || list.live === undefined;
  liveNote.textContent =
    list.live === 'unavailable'
      ? '“In flight now” is unavailable: the gateway gave no live session data (unreachable, or without /internal/v1/sessions). Status still comes from the last-seen time.'
      : 'Live data (“In flight now”) is off: the api has no GATEWAY_HTTP_URL + GATEWAY_SERVICE_TOKEN.';
  byId('refresh-state').textContent =
    `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s. ` +
    `Online = seen within the last ${Math.round(list.staleMs / 1000)} s.`;
  byId('empty').textContent = filters.active()
    ? 'No agent matches these filters.'
    : "No agents yet. Create a pairing token and run the command on the agent's machine.";
}

function selectOrg(orgId: string): void {
  const membership = state.me?.memberships.find((m) => m.organizationId === orgId);
  if (!membership) return;
  state.generation++;
  state.orgId = orgId;
  state.canManage = membership.role === 'owner' || membership.role === 'admin';
  session.selectOrg(orgId);
  byId('org-name').textContent = membership.name;
  byId('role-note').hidden = state.canManage;
  byId('create-pairing').hidden = !state.canManage;
  pairing.hide();
  table.clear();
  agentDetail.clear();
  showView();
  void refresh();
}

async function signIn(token: string, remembered: boolean): Promise<void> {
  const api = createApiClient(token);
  let me: Me;
  try {
    me = await api.me();
  } catch (err) {
    if (remembered && isUnauthorized(err)) session.signOut();
    showSignIn();
    showAlert(errorText(err));
    return;
  }
  session.signIn(token);
  state.api = api;
  state.me = me;
  showAlert(null);
  byId('who').textContent = me.email;
  const select = byId<HTMLSelectElement>('org-select');
  select.replaceChildren(
    ...me.memberships.map((m) => {
      const option = document.createElement('option');
      option.value = m.organizationId;
      option.textContent = `${m.name} (${m.role})`;
      return option;
    }),
  );
  if (me.memberships.length === 0) {
    showSignIn();
    showAlert('This user is not a member of any organization. Ask an owner to add you.');
    return;
  }
  const stored = session.orgId();
  const pick =
    me.memberships.find((m) => m.organizationId === stored) ??
    me.memberships.find((m) => m.role === 'owner' || m.role === 'admin') ??
    me.memberships[0]!;
  select.value = pick.organizationId;
  byId('sign-in').hidden = true;
  byId('session-bar').hidden = false;
  byId<HTMLInputElement>('access-token').value = '';
  selectOrg(pick.organizationId);
  byId('main').focus();
}

function showSignIn(): void {
  byId('sign-in').hidden = false;
  byId('session-bar').hidden = true;
  byId('agents-view').hidden = true;
  agentDetail.element.hidden = true;
  runView.element.hidden = true;
}

function signOut(message?: string): void {
  state.generation++;
  clearTimeout(state.timer);
  session.signOut();
  delete state.api;
  delete state.me;
  delete state.orgId;
  pairing.hide();
  table.clear();
  showSignIn();
  showAlert(message ?? null);
  byId('access-token').focus();
}

byId('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('access-token');
  const token = input.value.trim();
  if (!token) {
    showAlert('Enter your access token.');
    input.focus();
    return;
  }
  void signIn(token, false);
});
byId('org-select').addEventListener('change', (e) => selectOrg((e.target as HTMLSelectElement).value));
byId('sign-out').addEventListener('click', () => {
  signOut();
  announce('Signed out.');
});
byId('create-pairing').addEventListener('click', async (e) => {
  const button = e.currentTarget as HTMLButtonElement;
  if (!state.api || !state.orgId) return;
  button.disabled = true;
  try {
    pairing.show(await state.api.createPairingToken(state.orgId));
    showAlert(null);
  } catch (err) {
    actionFailed(err);
  } finally {
    button.disabled = false;
  }
});
window.addEventListener('hashchange', () => {
  // A new view: drop answers still on their way for the old one, show the new section, load it.
  state.generation++;
  showView();
  showAlert(null);
  void refresh();
  byId('main').focus();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void refresh();
});
setInterval(() => table.tick(), 1000);

const remembered = session.token();
if (remembered) void signIn(remembered, true);
else showSignIn();
