// The one-command demo of the full MVP stack. It grows with the stack: today it checks the
// libraries load and prints the plan; the control-plane issue turns it into the full run.
import { ERROR_CODES, PROTOCOL_VERSION } from '@vespid/protocol';

console.log(`Vespid demo — protocol v${PROTOCOL_VERSION}, ${ERROR_CODES.length} error codes in the catalogue.`);
console.log('Coming next: api + gateway + worker + a paired node-agent running a sample workflow.');
