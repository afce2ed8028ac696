// Phases of a run as the side panel and the monitor show them.

export const FINAL = new Set(["Succeeded", "Failed", "Error"]);

/** "37/100 succeeded, 2 failed, 1 omitted" from counts of leaf steps by phase, against the planned total
 * (the server's `runview.status.progress_text` writes the same; "not run": planned steps a finished run
 * never reached). */
export function progressText(p: { counts: Record<string, number>; total: number }): string {
  const parts = [`${p.counts.Succeeded ?? 0}/${p.total} succeeded`];
  const failed = (p.counts.Failed ?? 0) + (p.counts.Error ?? 0);
  if (failed) parts.push(`${failed} failed`);
  if (p.counts.Running) parts.push(`${p.counts.Running} running`);
  for (const phase of ["Skipped", "Omitted"])
    if (p.counts[phase]) parts.push(`${p.counts[phase]} ${phase.toLowerCase()}`);
  if (p.counts.NotRun) parts.push(`${p.counts.NotRun} not run`);
  return parts.join(", ");
}

/** "0.4 s", "4.2 s", "12 s", "3 min 05 s", "1 h 02 min" (tenths below 10 s). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "";
  if (seconds > 0 && seconds < 0.1) return "< 0.1 s";
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`; // tenths below 10 s
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}
