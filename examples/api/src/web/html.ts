/**
 * The server-rendered shell of the `/agents` page. Everything dynamic is filled in by the bundled
 * client; the only server value is the optional public api base for the connect command.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * HTML-escapes text for element content and quoted attributes.
 *
 * @example
 * ```ts
 * escapeHtml('<a href="x">'); // '&lt;a href=&quot;x&quot;&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * The page's HTML. `publicUrl` (API_PUBLIC_URL) becomes `--api-base` of the connect command; without
 * it the page uses its own origin.
 *
 * @example
 * ```ts
 * reply.type('text/html').send(agentsPageHtml({ publicUrl: 'https://api.example.com' }));
 * ```
 */
export function agentsPageHtml(options: { publicUrl?: string | undefined; assetVersion: string }): string {
  const v = encodeURIComponent(options.assetVersion);
  const apiBase = options.publicUrl ? `\n<meta name="vespid-api-base" content="${escapeHtml(options.publicUrl)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${apiBase}
<title>Agents · Vespid</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/agents/assets/app.css?v=${v}">
<script type="module" src="/agents/assets/app.js?v=${v}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
  <h1>Vespid · Agents</h1>
  <div id="session-bar" class="session-bar" hidden>
    <span>Signed in as <strong id="who"></strong></span>
    <label for="org-select">Organization</label>
    <select id="org-select"></select>
    <button type="button" id="sign-out">Sign out</button>
  </div>
</header>
<main id="main" tabindex="-1">
  <noscript><p class="alert">This page needs JavaScript (served by this api; nothing is loaded from elsewhere).</p></noscript>
  <div id="alert" class="alert" role="alert" hidden></div>
  <div id="announce" class="visually-hidden" role="status" aria-live="polite"></div>

  <section id="sign-in" class="card" aria-labelledby="sign-in-title">
    <h2 id="sign-in-title">Sign in</h2>
    <form id="sign-in-form" novalidate>
      <label for="access-token">Access token</label>
      <input id="access-token" name="accessToken" type="password" autocomplete="off" spellcheck="false" required>
      <p class="hint">Kept in this browser tab only (session storage): closing the tab forgets it.</p>
      <button type="submit" class="primary">Sign in</button>
    </form>
  </section>

  <section id="agents-view" hidden aria-labelledby="agents-title">
    <div class="toolbar">
      <h2 id="agents-title">Agents of <span id="org-name"></span></h2>
      <button type="button" id="create-pairing" class="primary">Create pairing token</button>
    </div>
    <p id="role-note" class="note" hidden>Your role is <strong>member</strong>: you can see the agents; creating pairing tokens, editing tags and revoking need the owner or admin role.</p>
    <p id="live-note" class="note" hidden></p>

    <section id="pairing" class="card pairing" hidden aria-labelledby="pairing-title" tabindex="-1">
      <h3 id="pairing-title">New pairing token</h3>
      <p>Shown only once. Single use; <span id="pairing-expiry" aria-live="off"></span></p>
      <label for="pairing-token">Pairing token</label>
      <input id="pairing-token" type="text" readonly spellcheck="false">
      <label for="pairing-command">Run on the machine that will host the agent</label>
      <textarea id="pairing-command" readonly rows="3" spellcheck="false"></textarea>
      <div class="actions">
        <button type="button" id="copy-command" class="primary">Copy command</button>
        <button type="button" id="dismiss-pairing">Done</button>
        <span id="copy-state" class="muted" aria-live="polite"></span>
      </div>
    </section>

    <form id="agent-filters" class="filters" role="search" aria-label="Filter agents">
      <div><label for="filter-q">Search</label><input id="filter-q" type="search" placeholder="name, id, version, host, tag" spellcheck="false" autocomplete="off"></div>
      <div><label for="filter-status">Status</label><select id="filter-status"><option value="">Any</option><option value="online">Online</option><option value="offline">Offline</option><option value="paused">Paused</option><option value="pending">Pending approval</option><option value="revoked">Revoked</option></select></div>
      <div><label for="filter-tag">Tag</label><input id="filter-tag" type="text" spellcheck="false" autocomplete="off"></div>
      <div class="check"><input id="filter-revoked" type="checkbox"><label for="filter-revoked">Show revoked</label></div>
    </form>
    <div class="table-wrap">
      <table id="agents-table">
        <thead>
          <tr>
            <th scope="col">Name</th><th scope="col">Status</th><th scope="col">Last seen</th><th scope="col">Tags</th>
            <th scope="col">Reported tags</th><th scope="col">Kinds</th><th scope="col">Connectors</th>
            <th scope="col">Max in flight</th><th scope="col">In flight now</th><th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody id="agents-body"></tbody>
      </table>
    </div>
    <p id="empty" class="note" hidden>No agents yet. Create a pairing token and run the command on the agent's machine.</p>
    <p class="muted"><span id="refresh-state"></span></p>
  </section>

  <section id="agent-view" hidden aria-labelledby="agent-title">
    <p><a href="#/">← All agents</a></p>
    <div class="toolbar">
      <h2><span id="agent-title"></span> <span id="agent-badges"></span></h2>
      <span class="actions">
        <button type="button" id="agent-approve" class="primary" hidden>Approve</button>
        <button type="button" id="agent-reject" class="danger" hidden>Reject</button>
        <button type="button" id="agent-pause">Pause</button>
      </span>
    </div>
    <p id="agent-pending-note" class="note" hidden>This agent is waiting for approval: it is connected (its host and version are shown) but gets no work. Approving grants it the tags it asked for; rejecting revokes it.</p>
    <p id="agent-pause-note" class="note">Pausing (cordon) keeps the agent connected and lets it finish what it runs; it gets no new work until resumed. Work for it waits in the queue meanwhile.</p>
    <dl id="agent-facts" class="facts"></dl>
    <h3 id="agent-current-title">Running now</h3>
    <div class="table-wrap">
      <table id="agent-current-table" aria-labelledby="agent-current-title" hidden>
        <thead><tr><th scope="col">Run</th><th scope="col">Node</th><th scope="col">Kind</th><th scope="col">Running for</th><th scope="col">Confirmed by agent</th></tr></thead>
        <tbody id="agent-current-body"></tbody>
      </table>
    </div>
    <p id="agent-current-empty" class="muted">Nothing running now.</p>
    <h3 id="agent-history-title">Job history</h3>
    <div class="table-wrap">
      <table id="agent-history-table" aria-labelledby="agent-history-title" hidden>
        <thead><tr><th scope="col">Finished</th><th scope="col">Run</th><th scope="col">Node</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Queued</th><th scope="col">Executing</th><th scope="col">Total</th><th scope="col">Error</th></tr></thead>
        <tbody id="agent-history-body"></tbody>
      </table>
    </div>
    <p id="agent-history-empty" class="muted">No jobs yet.</p>
    <button type="button" id="agent-history-more" hidden>Load older jobs</button>
    <h3 id="agent-audit-title">Audit log</h3>
    <div class="table-wrap">
      <table id="agent-audit-table" aria-labelledby="agent-audit-title" hidden>
        <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">By</th><th scope="col">Address</th><th scope="col">Details</th></tr></thead>
        <tbody id="agent-audit-body"></tbody>
      </table>
    </div>
    <p id="agent-audit-empty" class="muted">No security events yet.</p>
  </section>

  <section id="run-view" hidden aria-labelledby="run-title">
    <p><a href="#/">← All agents</a></p>
    <h2><span id="run-title"></span> <span id="run-badges"></span></h2>
    <p id="run-summary"></p>
    <div class="table-wrap">
      <table id="run-nodes-table" aria-label="Nodes of the run">
        <thead><tr><th scope="col">Node</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Agent</th><th scope="col">Attempts</th><th scope="col">Queued</th><th scope="col">Executing</th><th scope="col">Total</th><th scope="col">Error</th></tr></thead>
        <tbody id="run-nodes-body"></tbody>
      </table>
    </div>
  </section>
</main>
<dialog id="revoke-dialog" aria-labelledby="revoke-title" aria-describedby="revoke-text">
  <form method="dialog">
    <h2 id="revoke-title">Revoke agent?</h2>
    <p id="revoke-text"></p>
    <div class="actions">
      <button value="cancel" autofocus>Cancel</button>
      <button value="confirm" class="danger" id="revoke-confirm">Revoke agent</button>
    </div>
  </form>
</dialog>
</body>
</html>
`;
}
