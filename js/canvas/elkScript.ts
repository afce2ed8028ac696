// elk's worker script bundled as text (`with { type: "text" }`, esbuild's text loader), for hosts that ship the
// canvas as one bundle anyway: the lab extension and the unit tests (`setElkScript(bundledElkScript)`). The
// notebook widget does not import this module: it asks the kernel for the script (js/widget/elkFromKernel.ts).
import workerSource from "elkjs/lib/elk-worker.min.js" with { type: "text" };
import type { ElkScript } from "./elk";

export const bundledElkScript: ElkScript = () => Promise.resolve(workerSource);
