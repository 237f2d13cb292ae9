/**
 * The "Create pairing token" panel: the token shown once, a live expiry countdown, and the connect
 * command for each way of running the agent (tabs: npx, binary, container, from source = the runbook's
 * command), copyable with one button.
 */
import { countdown } from '../src/web/lib/format.js';
import type { PairingToken } from './api.js';
import { announce, byId, h } from './dom.js';
import { INSTALL_LABELS, INSTALL_METHODS, INSTALL_NOTES, type InstallMethod, installCommand } from './install-commands.js';

/**
 * The tab selected when the panel opens: "from source" works in every clone of the repository today;
 * the others need the published package, the built binary or the built image.
 */
const DEFAULT_METHOD: InstallMethod = 'source';

/** The api base agents should use: API_PUBLIC_URL when the server set it, else this page's origin. */
export function apiBase(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="vespid-api-base"]');
  return meta?.content || window.location.origin;
}

async function copyText(text: string, fallbackField: HTMLTextAreaElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (e.g. plain http on another host): select the text for Ctrl+C instead.
    fallbackField.focus();
    fallbackField.select();
    return false;
  }
}

/**
 * Builds the WAI-ARIA tab list above the command field (created here so the page markup stays as is);
 * arrow keys, Home and End move between tabs.
 */
function createInstallTabs(commandField: HTMLTextAreaElement, onSelect: (method: InstallMethod) => void) {
  const list = h('div', { role: 'tablist', 'aria-label': 'How to run the agent', class: 'install-tabs' });
  const note = h('p', { id: 'pairing-install-note', class: 'hint' });
  const tabs = INSTALL_METHODS.map((method) =>
    h(
      'button',
      { type: 'button', role: 'tab', id: `install-tab-${method}`, 'aria-controls': 'pairing-command', 'data-method': method },
      INSTALL_LABELS[method],
    ),
  );
  list.append(...tabs);
  const select = (method: InstallMethod, focus = false) => {
    for (const tab of tabs) {
      const on = tab.dataset.method === method;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    }
    commandField.setAttribute('aria-describedby', 'pairing-install-note');
    note.textContent = INSTALL_NOTES[method];
    onSelect(method);
  };
  list.addEventListener('click', (e) => {
    const method = (e.target as HTMLElement).closest<HTMLElement>('[role="tab"]')?.dataset.method as InstallMethod | undefined;
    if (method) select(method);
  });
  list.addEventListener('keydown', (e) => {
    const current = INSTALL_METHODS.indexOf((document.activeElement as HTMLElement | null)?.dataset.method as InstallMethod);
    if (current < 0) return;
    const last = INSTALL_METHODS.length - 1;
    const next =
      e.key === 'ArrowRight'
        ? (current + 1) % INSTALL_METHODS.length
        : e.key === 'ArrowLeft'
          ? (current + last) % INSTALL_METHODS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? last
              : -1;
    if (next < 0) return;
    e.preventDefault();
    select(INSTALL_METHODS[next]!, true);
  });
  commandField.before(list);
  commandField.after(note);
  return { select };
}

export function createPairingPanel() {
  const panel = byId('pairing');
  const tokenField = byId<HTMLInputElement>('pairing-token');
  const commandField = byId<HTMLTextAreaElement>('pairing-command');
  const expiry = byId('pairing-expiry');
  const copyState = byId('copy-state');
  let timer: ReturnType<typeof setInterval> | undefined;
  let current: PairingToken | undefined;
  const tabs = createInstallTabs(commandField, (method) => {
    commandField.value = current ? installCommand(method, { pairingToken: current.pairingToken, apiBase: apiBase() }) : '';
    copyState.textContent = '';
  });

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  const hide = () => {
    stop();
    panel.hidden = true;
    // The token is shown once: forget it when the panel closes.
    current = undefined;
    tokenField.value = '';
    commandField.value = '';
  };

  byId('copy-command').addEventListener('click', async () => {
    const ok = await copyText(commandField.value, commandField);
    copyState.textContent = ok ? 'Copied.' : 'Selected: press Ctrl+C (or ⌘C) to copy.';
  });
  byId('dismiss-pairing').addEventListener('click', () => {
    hide();
    byId('create-pairing').focus();
  });

  return {
    show(token: PairingToken): void {
      stop();
      current = token;
      tokenField.value = token.pairingToken;
      tabs.select(DEFAULT_METHOD);
      const render = () => {
        const left = countdown(token.expiresAt, Date.now());
        panel.dataset.expired = String(!left);
        expiry.textContent = left
          ? `expires in ${left} (at ${new Date(token.expiresAt).toLocaleTimeString()}).`
          : 'expired: create a new one.';
        if (!left) stop();
      };
      render();
      timer = setInterval(render, 1000);
      panel.hidden = false;
      panel.focus();
      announce('Pairing token created. It is shown only once.');
    },
    hide,
  };
}
