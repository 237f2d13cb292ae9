/**
 * The sign-in state, kept in sessionStorage only: it survives a reload of this tab and is gone when
 * the tab closes; it is never written to localStorage or a cookie.
 */
const TOKEN_KEY = 'vespid.accessToken';
const ORG_KEY = 'vespid.orgId';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  orgId: (): string | null => sessionStorage.getItem(ORG_KEY),
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  selectOrg(orgId: string): void {
    sessionStorage.setItem(ORG_KEY, orgId);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ORG_KEY);
  },
};
