// The validation list: every problem `dflow_lab.graph.validate` reports; a click focuses its node.
import type { Issue } from "./types";

export function issueWhere(i: Issue): string {
  return [i.template && `template ${i.template}`, i.node && `node ${i.node}`, i.port && `port ${i.port}`]
    .filter(Boolean)
    .join(" · ");
}

export function Problems({ issues, onFocus }: { issues: Issue[]; onFocus(issue: Issue): void }) {
  return (
    <div className="dfl-problems" aria-label="Validation problems">
      <div className="dfl-panel-title">
        {issues.length ? `${issues.length} problem${issues.length > 1 ? "s" : ""}` : "No problems"}
      </div>
      <ul>
        {issues.map((issue, k) => (
          <li key={k} className="dfl-problem" data-code={issue.code} onClick={() => onFocus(issue)} title="Focus">
            <span className="dfl-problem-code">{issue.code}</span>
            <span className="dfl-problem-message">{issue.message}</span>
            <span className="dfl-problem-where">{issueWhere(issue)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
