-- The seq of a run's last event, kept by the worker in the same statement that appends events.
-- An UPDATE of the run row takes its lock and re-reads the row if it had to wait, so `last_event_seq + 1`
-- is right even when the statement did not lock the run first (a SELECT max(seq) in that statement
-- would use the snapshot from before the wait). That saves the worker a separate run lock when it
-- only appends an event (node_dispatched). NULL until the worker's first event: max(seq) then.
ALTER TABLE workflow_runs ADD COLUMN IF NOT EXISTS last_event_seq integer;
