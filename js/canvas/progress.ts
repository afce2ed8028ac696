// The progress text of a run or a fan-out, one function for the canvas's nodes, the lab's run list and monitor,
// and the widget (the server's `runview.status.progress_text` writes the same for the run's header).

/** "37/100 succeeded, 2 failed, 3 running, 1 skipped, 1 omitted, 4 not run" from counts of steps (or items) by
 * phase against the planned total ("not run": planned steps a finished run never reached). */
export function progressText(p: { counts?: Record<string, number>; total?: number }): string {
  const c = p.counts ?? {};
  const parts = [`${c.Succeeded ?? 0}/${p.total ?? 0} succeeded`];
  const failed = (c.Failed ?? 0) + (c.Error ?? 0);
  if (failed) parts.push(`${failed} failed`);
  if (c.Running) parts.push(`${c.Running} running`);
  for (const phase of ["Skipped", "Omitted"]) if (c[phase]) parts.push(`${c[phase]} ${phase.toLowerCase()}`);
  if (c.NotRun) parts.push(`${c.NotRun} not run`);
  return parts.join(", ");
}
