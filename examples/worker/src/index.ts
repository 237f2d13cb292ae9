/** The example workflow worker, as a library for the demo and end-to-end tests. */
export { startWorkerHost, type WorkerHost, type WorkerHostOptions } from './host.js';
export { workerConfigFromEnv, type WorkerConfig } from './config.js';
export { createWorkflowEngine, type WorkflowEngine, type RunJob, type EngineOptions } from './engine.js';
export { bullmqRunQueueConsumer, inProcessRunQueueConsumer, RUN_QUEUE_NAME, type RunQueueConsumer } from './run-queue.js';
