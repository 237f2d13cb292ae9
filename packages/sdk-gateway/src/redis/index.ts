export const SUBPATH = 'redis';
