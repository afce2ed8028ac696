// The layout worker's script (bundled as text by js/workerText.mjs, started by layoutClient.ts): it answers
// each LayoutRequest with layered.ts's positions, transferred (layoutProtocol.ts). It holds no state.
import { type LayoutRequest, answer } from "./layoutProtocol";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const a = answer(e.data);
    scope.postMessage(a, [a.xy.buffer]);
  } catch (err) {
    scope.postMessage({ id: e.data.id, xy: new Float64Array(0), error: String(err) }, []);
  }
};
