export const SUBPATH = 'docker';
