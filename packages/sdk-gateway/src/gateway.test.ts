import { gatewayScenarios } from '../test/gateway.scenarios.js';
import { memoryResultStore } from './results/result-store.js';

gatewayScenarios('memory', () => memoryResultStore());
