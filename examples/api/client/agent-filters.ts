/**
 * The agents list's filter bar: status, tag, text search and "show revoked". Changes call `onChange`
 * (typing in the search box is debounced so each keystroke does not hit the api).
 */
import type { AgentFilter } from './api.js';
import { byId } from './dom.js';

const SEARCH_DEBOUNCE_MS = 300;

export function createAgentFilters(onChange: () => void) {
  const form = byId<HTMLFormElement>('agent-filters');
  const status = byId<HTMLSelectElement>('filter-status');
  const tag = byId<HTMLInputElement>('filter-tag');
  const q = byId<HTMLInputElement>('filter-q');
  const revoked = byId<HTMLInputElement>('filter-revoked');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, SEARCH_DEBOUNCE_MS);
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    onChange();
  });
  status.addEventListener('change', onChange);
  revoked.addEventListener('change', onChange);
  tag.addEventListener('input', later);
  q.addEventListener('input', later);
  return {
    value(): AgentFilter {
      return {
        ...(status.value ? { status: status.value } : {}),
        ...(tag.value.trim() ? { tag: tag.value.trim() } : {}),
        ...(q.value.trim() ? { q: q.value.trim() } : {}),
        includeRevoked: revoked.checked,
      };
    },
    /** Whether any filter narrows the list (the empty-list message says so). */
    active(): boolean {
      return Boolean(status.value || tag.value.trim() || q.value.trim());
    },
  };
}
