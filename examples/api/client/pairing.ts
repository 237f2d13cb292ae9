/**
 * The "Create pairing token" panel: the token shown once, a live expiry countdown, and the runbook's
 * connect command with the right `--api-base`, copyable with one button.
 */
import { connectCommand } from '../src/web/lib/command.js';
import { countdown } from '../src/web/lib/format.js';
import type { PairingToken } from './api.js';
import { announce, byId } from './dom.js';

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

export function createPairingPanel() {
  const panel = byId('pairing');
  const tokenField = byId<HTMLInputElement>('pairing-token');
  const commandField = byId<HTMLTextAreaElement>('pairing-command');
  const expiry = byId('pairing-expiry');
  const copyState = byId('copy-state');
  let timer: ReturnType<typeof setInterval> | undefined;

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  const hide = () => {
    stop();
    panel.hidden = true;
    // The token is shown once: forget it when the panel closes.
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
      tokenField.value = token.pairingToken;
      commandField.value = connectCommand({ pairingToken: token.pairingToken, apiBase: apiBase() });
      copyState.textContent = '';
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
