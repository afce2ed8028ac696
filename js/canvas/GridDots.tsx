// The dot grid behind a large graph, moved by the compositor. React Flow's <Background> redraws an SVG pattern
// over the whole pane on every frame of a pan (a full-pane raster each frame); this one is a CSS pattern on a
// layer of its own, a dot gap larger than the pane, that a pan only shifts by less than a gap (a transform: no
// repaint). Zooming changes the gap and repaints it, as React Flow's does.
import { type ReactFlowState, useStoreApi } from "@xyflow/react";
import { useEffect, useRef } from "react";

/** Dots `gap` flow units apart, `size` flow units across, in React Flow's dot colour. */
export function GridDots({ gap = 20, size = 1 }: { gap?: number; size?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const store = useStoreApi();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let zoom = NaN;
    const place = ({ transform: [x, y, z] }: ReactFlowState) => {
      const g = Math.max(gap * z, 1);
      if (z !== zoom) {
        zoom = z;
        const r = (size * z) / 2;
        el.style.backgroundImage = `radial-gradient(circle, var(--dfl-dots) ${r}px, transparent ${r + 0.4}px)`;
        el.style.backgroundSize = `${g}px ${g}px`;
        el.style.inset = `${-g}px`;
      }
      el.style.transform = `translate(${((x % g) + g) % g}px, ${((y % g) + g) % g}px)`;
    };
    place(store.getState());
    return store.subscribe((s, prev) => {
      if (s.transform !== prev.transform) place(s);
    });
  }, [gap, size, store]);

  return <div ref={ref} className="dfl-grid-dots" />;
}
