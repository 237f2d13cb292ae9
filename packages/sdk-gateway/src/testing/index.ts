export const SUBPATH = 'testing';
