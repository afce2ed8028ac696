// The monitor's run state in the toolbar: the workflow's phase chip and its progress ("121/10000 succeeded").
// The host may hand it a `Live` value instead of a plain one: a live run's state then changes ten times a
// second without re-rendering the canvas around it (on a 10,000-node canvas that re-render took 20-30 ms).
import { Live, useLive } from "./store";

export interface WorkflowState {
  phase?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  progress?: string | null;
  message?: string | null;
}

export type WorkflowStateProp = WorkflowState | Live<WorkflowState | null> | null | undefined;

const NONE = new Live<WorkflowState | null>(null);

export function RunState({ workflow }: { workflow: WorkflowStateProp }) {
  const live = useLive(workflow instanceof Live ? workflow : NONE);
  const wf = workflow instanceof Live ? live : workflow;
  return (
    <>
      {wf?.phase && (
        <span className="dfl-chip" data-phase={wf.phase} data-testid="workflow-phase">
          {wf.phase}
        </span>
      )}
      {wf?.progress && (
        <span className="dfl-muted" data-testid="workflow-progress">
          {wf.progress}
        </span>
      )}
    </>
  );
}
