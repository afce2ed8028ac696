// The drawn nodes: a step/task, an expanded Steps/DAG group, the workflow's inputs/outputs, a stage lane.
import { Handle, type NodeProps, Position, type ReactFlowState, useStore } from "@xyflow/react";
import { Fragment, memo } from "react";
import { useCanvas } from "./context";
import { GROUP_HEADER, GUTTER, HEADER, ROW, groupRowY, rowY } from "./geometry";
import { Badge, KIND_LABEL, KindIcon } from "./icons";
import { type Port, describePort, handleId } from "./ports";
import { progressText } from "./progress";
import { useKey } from "./store";
import type { GraphNode, Issue, Json, NodeStatus } from "./types";
import type { IoData, LaneData, StepNode } from "./view";

function nodeBadges(node: GraphNode) {
  const badges = [];
  if (node.with_param !== undefined || node.with_sequence) {
    const what = node.with_sequence
      ? `with_sequence ${JSON.stringify(node.with_sequence)}`
      : `with_param ${typeof node.with_param === "string" ? node.with_param : JSON.stringify(node.with_param)}`;
    badges.push(<Badge key="loop" label="⟳ loop" title={`Fans out: ${what}`} tone="loop" />);
  }
  if (node.when) badges.push(<Badge key="when" label="◇ when" title={`Runs when ${node.when}`} tone="when" />);
  if (node.key) badges.push(<Badge key="key" label={`⚷ ${node.key}`} title={`key: ${node.key}`} tone="key" />);
  if (node.continue_on_failed || node.continue_on_error) {
    badges.push(<Badge key="cont" label="↷" title="continues on failure" tone="cont" />);
  }
  return badges;
}

/** Below this zoom, port names and badges cannot be read: nodes draw their name and handles only. */
export const COMPACT_ZOOM = 0.45;
export const compactSelector = (s: ReactFlowState) => s.transform[2] < COMPACT_ZOOM;
const neverCompact = () => false;

export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds < 0.1) return "< 0.1 s";
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`; // tenths below 10 s
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} m ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

export function statusDuration(s: NodeStatus): number | null {
  if (!s.startedAt) return null;
  const end = s.finishedAt ? Date.parse(s.finishedAt) : Date.now();
  return Math.max(0, (end - Date.parse(s.startedAt)) / 1000);
}

/** A fan-out's progress on its node (null for a single step). */
export function fanoutProgress(s: NodeStatus): string | null {
  return s.total && s.total > 1 ? progressText(s) : null;
}

const FIELD_ABBREVIATIONS: Record<string, string> = { inputs: "in", outputs: "out", template: "tmpl" };

/** A comparison mark short enough for a node's status line: "Δ in,out", "same", "added", "removed". */
export function compareBadgeText(c: { state: string; fields: string[] }): string {
  if (c.state === "changed") return `Δ ${c.fields.map((f) => FIELD_ABBREVIATIONS[f] ?? f).join(",")}`;
  return c.state === "unchanged" ? "same" : c.state;
}

function StatusLine({ status }: { status: NodeStatus | undefined }) {
  if (!status) return null;
  // a skipped or omitted step did not run: no duration
  const d = status.phase === "Skipped" || status.phase === "Omitted" ? null : statusDuration(status);
  const progress = fanoutProgress(status);
  return (
    <div className="dfl-status-line" data-phase={status.phase} data-compare={status.compare?.state}>
      <span className="dfl-phase-dot" />
      <span className="dfl-phase">{progress ?? status.phase}</span>
      {d !== null && <span className="dfl-duration">{formatDuration(d)}</span>}
      {status.reused && (
        <span className="dfl-reused-badge" title="outputs reused from an earlier run">
          reused
        </span>
      )}
      {status.compare && (
        <span
          className="dfl-compare-badge"
          data-state={status.compare.state}
          title={`against ${status.compare.other}: ${status.compare.state}${status.compare.fields.length ? ` (${status.compare.fields.join(", ")})` : ""}`}
        >
          {compareBadgeText(status.compare)}
        </span>
      )}
    </div>
  );
}

function IssueBadge({ issues }: { issues: Issue[] | undefined }) {
  if (!issues?.length) return null;
  return (
    <span className="dfl-issue-badge" title={issues.map((i) => `${i.code}: ${i.message}`).join("\n")}>
      {issues.length}
    </span>
  );
}

function literalText(value: Json): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 14 ? `${text.slice(0, 13)}…` : text;
}

function PortRow({
  port,
  side,
  y,
  issue,
  literal,
}: {
  port: Port;
  side: "in" | "out";
  y: number;
  issue?: Issue;
  literal?: Json;
}) {
  const given = literal !== undefined;
  return (
    <div
      className={`dfl-port dfl-port-${side} dfl-port-${port.kind}${issue ? " dfl-port-bad" : ""}`}
      style={{ top: y - ROW / 2 }}
      title={
        describePort(port) +
        (given ? `\nvalue: ${JSON.stringify(literal)}` : "") +
        (issue ? `\n⚠ ${issue.message}` : "")
      }
      data-port={port.name}
    >
      <span className="dfl-port-name">{port.name}</span>
      {given && <span className="dfl-port-literal">= {literalText(literal as Json)}</span>}
    </div>
  );
}

function ports(
  data: StepNode["data"],
  issues: Issue[] | undefined,
  yOf: (i: number) => number,
  editable: boolean,
  compact: boolean,
) {
  const portIssue = (name: string) => issues?.find((i) => i.port === name);
  if (compact) {
    return (
      <>
        {data.inputs.map((p, i) => (
          <Handle
            key={`in-${p.kind}-${p.name}`}
            type="target"
            position={Position.Left}
            id={handleId({ role: "in", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: yOf(i) }}
            isConnectable={editable}
          />
        ))}
        {data.outputs.map((p, i) => (
          <Handle
            key={`out-${p.kind}-${p.name}`}
            type="source"
            position={Position.Right}
            id={handleId({ role: "out", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: yOf(i) }}
            isConnectable={editable}
          />
        ))}
      </>
    );
  }
  return (
    <>
      {data.inputs.map((p, i) => (
        <Fragment key={`in-${p.kind}-${p.name}`}>
          <Handle
            type="target"
            position={Position.Left}
            id={handleId({ role: "in", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: yOf(i) }}
            isConnectable={editable}
            title={describePort(p)}
          />
          <PortRow
            port={p}
            side="in"
            y={yOf(i)}
            issue={portIssue(p.name)}
            literal={p.kind === "parameter" ? data.node.parameters?.[p.name] : undefined}
          />
        </Fragment>
      ))}
      {data.outputs.map((p, i) => (
        <Fragment key={`out-${p.kind}-${p.name}`}>
          <Handle
            type="source"
            position={Position.Right}
            id={handleId({ role: "out", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: yOf(i) }}
            isConnectable={editable}
            title={describePort(p)}
          />
          <PortRow port={p} side="out" y={yOf(i)} issue={portIssue(p.name)} />
        </Fragment>
      ))}
    </>
  );
}

/** The fan-out option and the control handles; a compact node draws only those that are wired (fewer
 * handles to track when thousands of nodes are on screen). */
function ControlHandles({ data, editable, compact }: { data: StepNode["data"]; editable: boolean; compact: boolean }) {
  const dag = data.ownerKind === "dag";
  return (
    <>
      {(!compact || data.wired.withParam) && (
        <Handle
          type="target"
          position={Position.Top}
          id="opt:with_param"
          className="dfl-handle dfl-handle-option"
          style={{ left: 34 }}
          title="with_param: fan out over a list parameter"
          isConnectable={editable}
        />
      )}
      {dag && (!compact || data.wired.ctlIn) && (
        <Handle
          type="target"
          position={Position.Left}
          id="ctl-in"
          className="dfl-handle dfl-handle-control"
          style={{ top: 14 }}
          title="runs after (control dependency)"
          isConnectable={editable}
        />
      )}
      {dag && (!compact || data.wired.ctlOut) && (
        <Handle
          type="source"
          position={Position.Right}
          id="ctl-out"
          className="dfl-handle dfl-handle-control"
          style={{ top: 14 }}
          title="then runs (control dependency)"
          isConnectable={editable}
        />
      )}
    </>
  );
}

function Header({
  data,
  status,
  issues,
  compact,
}: {
  data: StepNode["data"];
  status?: NodeStatus;
  issues?: Issue[];
  compact?: boolean;
}) {
  const { toggleCollapsed } = useCanvas();
  const kind = data.template?.kind;
  if (compact) {
    return (
      <div className="dfl-node-header" style={{ height: HEADER }}>
        <KindIcon kind={kind} />
        <div className="dfl-node-name dfl-node-name-compact">{data.node.name}</div>
        <IssueBadge issues={issues} />
      </div>
    );
  }
  return (
    <div className="dfl-node-header" style={{ height: HEADER }}>
      <KindIcon kind={kind} />
      <div className="dfl-node-titles">
        <div className="dfl-node-name" title={data.path}>
          {data.node.name}
        </div>
        <div className="dfl-node-template">
          {data.node.template}
          {kind ? ` · ${KIND_LABEL[kind]}` : " · missing template"}
        </div>
      </div>
      <div className="dfl-node-badges">{nodeBadges(data.node)}</div>
      <IssueBadge issues={issues} />
      {data.expandable && (
        <button
          className="dfl-collapse nodrag"
          title={data.expanded ? "Collapse" : "Expand"}
          onClick={(e) => {
            e.stopPropagation();
            toggleCollapsed(data.path, data.expanded);
          }}
        >
          {data.expanded ? "▾" : "▸"}
        </button>
      )}
      {status && <StatusLine status={status} />}
    </div>
  );
}

export const StepNodeView = memo(function StepNodeView({ data, selected }: NodeProps<StepNode>) {
  const { mode, overview, issues: issueStore, status: statusStore } = useCanvas();
  // each node follows the zoom itself (the canvas around does not redraw); a large graph's overview takes
  // over at that zoom, so its nodes never follow it (crossing into the overview redraws none of them)
  const compact = useStore(overview ? neverCompact : compactSelector);
  const issues = useKey(issueStore, data.path);
  const status = useKey(statusStore, data.path);
  const editable = mode === "edit";
  return (
    <div
      className={`dfl-node dfl-step${selected ? " selected" : ""}${issues?.length ? " dfl-has-issues" : ""}${compact ? " dfl-compact" : ""}`}
      data-path={data.path}
      data-phase={status?.phase}
      style={{ width: data.width, height: data.height }}
    >
      <ControlHandles data={data} editable={editable} compact={compact} />
      <Header data={data} status={compact ? undefined : status} issues={issues} compact={compact} />
      {ports(data, issues, rowY, editable, compact)}
    </div>
  );
});

export const GroupNodeView = memo(function GroupNodeView({ data, selected }: NodeProps<StepNode>) {
  const { mode, issues: issueStore, status: statusStore } = useCanvas();
  const issues = useKey(issueStore, data.path);
  const status = useKey(statusStore, data.path);
  const editable = mode === "edit";
  return (
    <div
      className={`dfl-node dfl-group dfl-group-${data.template?.kind}${selected ? " selected" : ""}${issues?.length ? " dfl-has-issues" : ""}`}
      data-path={data.path}
      data-phase={status?.phase}
      style={{ width: data.width, height: data.height }}
    >
      <ControlHandles data={data} editable={editable} compact={false} />
      <Header data={data} status={status} issues={issues} />
      <div className="dfl-gutter dfl-gutter-in" style={{ top: GROUP_HEADER, width: GUTTER }} />
      <div className="dfl-gutter dfl-gutter-out" style={{ top: GROUP_HEADER, width: GUTTER }} />
      {data.inputs.map((p, i) => (
        <div key={`in-${p.kind}-${p.name}`}>
          <Handle
            type="target"
            position={Position.Left}
            id={handleId({ role: "in", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: groupRowY(i) }}
            isConnectable={editable}
          />
          <PortRow port={p} side="in" y={groupRowY(i)} />
          <Handle
            type="source"
            position={Position.Right}
            id={handleId({ role: "inner-in", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: groupRowY(i), left: GUTTER, right: "auto" }}
            isConnectable={editable}
          />
        </div>
      ))}
      {data.outputs.map((p, i) => (
        <div key={`out-${p.kind}-${p.name}`}>
          <Handle
            type="target"
            position={Position.Left}
            id={handleId({ role: "inner-out", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: groupRowY(i), left: "auto", right: GUTTER }}
            isConnectable={editable}
          />
          <PortRow port={p} side="out" y={groupRowY(i)} />
          <Handle
            type="source"
            position={Position.Right}
            id={handleId({ role: "out", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: groupRowY(i) }}
            isConnectable={editable}
          />
        </div>
      ))}
    </div>
  );
});

export const IoNodeView = memo(function IoNodeView({
  data,
  selected,
}: NodeProps<import("@xyflow/react").Node<IoData>>) {
  const { mode } = useCanvas();
  const inputs = data.side === "inputs";
  return (
    <div
      className={`dfl-node dfl-io${selected ? " selected" : ""}`}
      data-path={data.path}
      style={{ height: data.height }}
    >
      <div className="dfl-node-header" style={{ height: HEADER }}>
        <span className="dfl-kind dfl-kind-io">{inputs ? "⇥" : "⇤"}</span>
        <div className="dfl-node-titles">
          <div className="dfl-node-name">{inputs ? "Workflow inputs" : "Workflow outputs"}</div>
          <div className="dfl-node-template">entrypoint {inputs ? "inputs" : "outputs"}</div>
        </div>
      </div>
      {data.ports.map((p, i) => (
        <div key={`${p.kind}-${p.name}`}>
          <Handle
            type={inputs ? "source" : "target"}
            position={inputs ? Position.Right : Position.Left}
            id={handleId({ role: inputs ? "out" : "in", kind: p.kind, port: p.name })}
            className={`dfl-handle dfl-handle-${p.kind}`}
            style={{ top: rowY(i) }}
            isConnectable={mode === "edit"}
          />
          <PortRow port={p} side={inputs ? "out" : "in"} y={rowY(i)} />
        </div>
      ))}
    </div>
  );
});

export const LaneNodeView = memo(function LaneNodeView({ data }: NodeProps<import("@xyflow/react").Node<LaneData>>) {
  return (
    <div className="dfl-lane" style={{ width: data.width, height: data.height }}>
      <span className="dfl-lane-label">{data.label}</span>
    </div>
  );
});

export const nodeTypes = { step: StepNodeView, container: GroupNodeView, io: IoNodeView, lane: LaneNodeView };
