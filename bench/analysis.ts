/** The hand-written analysis appended to SUMMARY.md after a full run (evidence and likely fixes). */
export const ANALYSIS = `
## Analysis

(pending)
`;
