// Phases of a run as the side panel and the monitor show them.

export const FINAL = new Set(["Succeeded", "Failed", "Error"]);

export { progressText } from "@dflow-lab/canvas/progress";

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
