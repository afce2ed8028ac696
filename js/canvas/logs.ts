// A step's log in the monitor's panel: the text so far, extended by the lines the kernel sends as the step
// writes them (`{type: "logs", start, end, text}` messages; see dflow_lab/widgets/base.py).
import type { StepDetails } from "./types";

/** The most of a log the panel keeps; older lines are dropped (the whole log stays on disk). */
export const MAX_LOG_CHARS = 512 * 1024;
export const SKIPPED_MARK = "… (earlier lines not shown)\n";

export interface LogPiece {
  path: string;
  item: number | null;
  start: number;
  end: number;
  text: string;
  skipped?: boolean;
}

/** Keep at most `max` characters of `text`, from the start of a line, marking the cut. */
export function trimLog(text: string, max = MAX_LOG_CHARS): string {
  if (text.length <= max) return text;
  const tail = text.slice(text.length - max);
  const cut = tail.indexOf("\n");
  return SKIPPED_MARK + (cut >= 0 ? tail.slice(cut + 1) : tail);
}

/** The panel's details with `piece` appended to the log, or the same details when the piece is not the
 * continuation of what the panel shows (another step or item, or a piece from before a refresh). */
export function appendLog(details: StepDetails | null, piece: LogPiece, max = MAX_LOG_CHARS): StepDetails | null {
  if (!details || details.path !== piece.path || (details.item ?? null) !== (piece.item ?? null)) return details;
  if (details.logsEnd !== piece.start) return details;
  const before = piece.skipped ? SKIPPED_MARK : (details.logs ?? "");
  return { ...details, logs: trimLog(before + piece.text, max), logsEnd: piece.end };
}
