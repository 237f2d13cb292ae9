export const SUBPATH = 'postgres';
